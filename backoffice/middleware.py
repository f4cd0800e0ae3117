"""Staff security on every request of the console (docs/staff-security.md §2).

- the request is made known to the audit log's signal receivers (``backoffice.audit``);
- a staff session idle for ``STAFF_IDLE_MINUTES`` is signed out;
- a staff member who needs a second factor (``otp_required``) and has not given one this session
  is sent to enrol or to verify before any page of the admin but its login and logout;
- a read-only staff member (an auditor: only ``view_`` permissions) is refused every POST in the
  admin but signing out and changing their own password, whatever a page or action forgets.

It sits after django-otp's middleware, which tells whether the session's user is verified.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device

from backoffice.audit import current_request
from core.staff import Role

ADMIN_NAMESPACE = "admin"
# Pages of the admin a staff member reaches before the second factor.
BEFORE_OTP = {"login", "logout"}
# The only POSTs of the admin a read-only staff member may send.
READ_ONLY_MAY_POST = {"logout", "password_change"}
OTP_ROLES = (Role.SUPERVISOR, Role.ADMIN)
SEEN_KEY = "backoffice_seen_at"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def otp_required(user: Any) -> bool:
    """Whether ``user`` must give a TOTP code: supervisors and admins, everyone with the switch on."""
    if not (user.is_authenticated and user.is_staff):
        return False
    return bool(settings.STAFF_OTP_FOR_ALL) or user.groups.filter(name__in=OTP_ROLES).exists()


def is_read_only(user: Any) -> bool:
    """Only ``view_`` permissions (or none at all): the auditor's shape."""
    return all(perm.partition(".")[2].startswith("view_") for perm in user.get_all_permissions())


class StaffSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            self._sign_out_if_idle(request)
            return self.get_response(request)
        finally:
            current_request.reset(token)

    def _sign_out_if_idle(self, request: HttpRequest) -> None:
        session = getattr(request, "session", None)
        user: Any = request.user
        if session is None or not (user.is_authenticated and user.is_staff):
            return
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        if isinstance(seen, int) and now - seen > settings.STAFF_IDLE_MINUTES * 60:
            logout(request)  # the audit log hears it (auth.logout)
            return
        if not isinstance(seen, int) or now - seen >= 60:  # the session is written once a minute at most
            session[SEEN_KEY] = now

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.app_name != ADMIN_NAMESPACE:
            return None
        user: Any = request.user
        if not (user.is_authenticated and user.is_staff) or match.url_name in BEFORE_OTP:
            return None
        if otp_required(user) and not user.is_verified():
            page = "backoffice:otp_verify" if user_has_device(user, confirmed=True) else "backoffice:otp_enrol"
            return HttpResponseRedirect(f"{reverse(page)}?{urlencode({'next': request.get_full_path()})}")
        if request.method not in SAFE_METHODS and match.url_name not in READ_ONLY_MAY_POST and is_read_only(user):
            raise PermissionDenied("read-only staff cannot change anything")
        return None
