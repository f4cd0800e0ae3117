"""What the audit log hears without being called: sign-in events, lockouts, admin changes.

Recording is the receivers' only job (docs/staff-security.md §3): no business rule lives here
(docs/conventions.md §4). Admin additions, changes and deletions of every model are heard from
the admin's own ``LogEntry`` rows, so a model registered later is covered too.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from backoffice.audit import audit_record

ADMIN_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


def user_target(user: Any) -> str:
    return f"user:{user.get_username()}" if user is not None else ""


@receiver(user_logged_in, dispatch_uid="backoffice.audit.logged_in")
def record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="auth.login", target=user_target(user), request=request)


@receiver(user_logged_out, dispatch_uid="backoffice.audit.logged_out")
def record_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="auth.logout", target=user_target(user), request=request)


@receiver(user_login_failed, dispatch_uid="backoffice.audit.login_failed")
def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))
    audit_record(actor=None, action="auth.login_failed", target=f"user:{username}", request=request)


@receiver(user_locked_out, dispatch_uid="backoffice.audit.locked_out")
def record_locked_out(sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any) -> None:
    audit_record(actor=None, action="auth.locked_out", target=f"user:{username or ''}", request=request)


@receiver(post_save, sender=LogEntry, dispatch_uid="backoffice.audit.admin_change")
def record_admin_change(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    content_type = instance.content_type
    model = f"{content_type.app_label}.{content_type.model}" if content_type is not None else "unknown"
    audit_record(
        actor=instance.user,
        action=ADMIN_ACTIONS.get(instance.action_flag, "admin.other"),
        target=f"{model}:{instance.object_id or ''}",
        data={"object": instance.object_repr, "change": instance.get_change_message()},
    )
