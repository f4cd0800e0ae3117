"""The staff roles' groups and their permissions (docs/staff-security.md §1).

``roles_sync`` gives each role's group exactly the permissions of ``role_permissions``. It runs
in the migration that creates the groups and after every ``migrate`` (``post_migrate``, once the
last app's permissions exist), so a model added later is seen by every role without a migration.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, Q, Value
from django.db.models.functions import Concat

from core.staff import Role

# The permissions of the StaffAccess holder (backoffice/models.py), by role.
STAFF_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.OPERATOR: ("make_request",),
    Role.SUPERVISOR: ("decide_request", "view_personal_data", "view_reports"),
    Role.AUDITOR: ("view_reports", "view_personal_data"),
    Role.ADMIN: ("manage_staff", "view_reports"),
}
# Every role but admin reads every model; admin manages staff, their second factor and lockouts.
READING_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR)
ADMIN_MODEL_PERMISSIONS = (
    ("auth", "add_user"),
    ("auth", "change_user"),
    ("auth", "view_user"),
    ("auth", "add_group"),
    ("auth", "change_group"),
    ("auth", "view_group"),
    ("otp_totp", "view_totpdevice"),
    ("otp_totp", "delete_totpdevice"),
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
)


def role_permissions(role: Role, *, apps: Apps = global_apps) -> Any:
    """The ``Permission`` queryset a role's group holds."""
    permission_model = apps.get_model("auth", "Permission")
    wanted = Q(content_type__app_label="backoffice", codename__in=STAFF_PERMISSIONS[role])
    if role in READING_ROLES:
        # a model's own view permission (view_<model>), not a custom one that starts alike
        wanted |= Q(codename=Concat(Value("view_"), F("content_type__model")))
    if role is Role.ADMIN:
        for app_label, codename in ADMIN_MODEL_PERMISSIONS:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
    return permission_model.objects.filter(wanted)


def roles_sync(*, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the four groups if needed and give each exactly its role's permissions."""
    group_model = apps.get_model("auth", "Group")
    for role in Role:
        group, _ = group_model.objects.using(using).get_or_create(name=role.value)
        group.permissions.set(role_permissions(role, apps=apps).using(using))


def roles_sync_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver: acts once per migrate, after the last app's permissions exist."""
    with_models = [config for config in global_apps.get_app_configs() if config.models_module is not None]
    if with_models and sender is with_models[-1]:
        # this receiver may run before auth's own for the same app (backoffice is listed before
        # django.contrib.auth, so its templates win): make the last app's permissions exist first
        create_contenttypes(sender, verbosity=0, using=using)
        create_permissions(sender, verbosity=0, using=using)
        roles_sync(using=using)
