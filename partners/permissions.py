"""Scope checks of the partner API: each view says which scopes it needs (docs/architecture.md §5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.errors import ErrorCode, PermissionDenied
from partners.auth import partner_auth_of

# A view's ``required_scopes``: the scopes every method needs, or one entry per method
# ({"GET": ["transactions.read"], "POST": ["bills.pay"]}). ``()`` means "any partner".
ScopeRequirement = Sequence[str] | Mapping[str, Sequence[str]]


def scopes_required(view: Any, method: str) -> Sequence[str]:
    required: ScopeRequirement | None = getattr(view, "required_scopes", None)
    if required is None:
        raise ImproperlyConfigured(f"{type(view).__name__} must declare required_scopes (use () for none).")
    if isinstance(required, str):
        return [required]
    if isinstance(required, Mapping):
        method = "GET" if method == "HEAD" else method
        if method == "OPTIONS":
            return ()
        if method not in required:
            raise ImproperlyConfigured(f"{type(view).__name__}.required_scopes has no entry for {method}.")
        return required[method]
    return required


class HasScope(BasePermission):
    """403 ``scope_missing`` unless the partner holds every scope the view needs for the method."""

    def has_permission(self, request: Request, view: Any) -> bool:
        auth = partner_auth_of(request)
        needed = scopes_required(view, (request.method or "").upper())
        missing = sorted(set(needed) - auth.scopes)
        if missing:
            raise PermissionDenied(
                f"This API key lacks the scope(s): {', '.join(missing)}.", code=ErrorCode.SCOPE_MISSING
            )
        return True
