"""Partner API authentication (docs/architecture.md §3 step 2, §5).

``Authorization: Bearer ak_<mode>_…`` → the partner, its mode and scopes. Then, in this order:
a suspended partner is refused (403 ``partner_suspended``), an address outside the partner's
allowlist is refused (403 ``ip_not_allowed``), and a request that changes anything (POST, PUT,
PATCH, DELETE) must carry ``X-Signature: t=<unix>,v1=<hex>`` over its raw body and full path,
made with an active signing secret of that partner and mode, fresh (|now - t| <= 300 s) and
never seen before (401 ``invalid_signature`` / ``signature_expired`` / ``signature_replayed``).

The suspension and allowlist checks live here rather than in permission classes so that no
view can drop them by overriding ``permission_classes``.

Fast path (docs/performance.md): each process keeps what it read about a key (the credential
with its partner) and the clear text of a partner's active secrets for
``PARTNER_AUTH_CACHE_SECONDS`` (2 s by default, at most 5): a revoked key, a revoked or
rotated-out secret, a suspension, a new scope or allowlist reach every web worker within that
time, without a query or a decryption per request. The replay claim and the rate limit are one
Redis round trip (``partners.guards.request_guard``); ``last_used_at`` is written at most once a
minute (``api_credential_touch``).
"""

from __future__ import annotations

import copy
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from core.errors import AuthenticationFailed, ErrorCode, GatewayError, PermissionDenied
from core.logging import partner_var
from core.short_cache import ShortCache
from core.signing import SignatureHeaderError, parse_signature_header, timestamp_is_fresh, verify
from partners.guards import RateDecision, request_guard
from partners.models import ApiCredential, Mode, Partner
from partners.selectors import api_credential_get_by_key, hash_api_key, signing_secret_values_active
from partners.services import LAST_USED_PRECISION, api_credential_touch

logger = logging.getLogger("partners.auth")

SIGNED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WWW_AUTHENTICATE = 'Bearer realm="addon-partner"'

_credentials: ShortCache[str, ApiCredential | None] = ShortCache("PARTNER_AUTH_CACHE_SECONDS")
_secrets: ShortCache[tuple[int, str], list[str]] = ShortCache("PARTNER_AUTH_CACHE_SECONDS")


def auth_cache_clear() -> None:
    """Forget what this process read (tests; a process that wants changes seen at once)."""
    _credentials.clear()
    _secrets.clear()


def _credential_of(api_key: str) -> ApiCredential | None:
    """The key's credential with its partner (shared by the process's requests: read only)."""
    return _credentials.fetch(hash_api_key(api_key), lambda: api_credential_get_by_key(api_key=api_key))


def _touch(credential: ApiCredential) -> None:
    """``last_used_at`` at most once a minute, the cached credential remembering the write."""
    if _touch_due(credential.last_used_at):
        api_credential_touch(credential=credential)
        credential.last_used_at = timezone.now()


def _touch_due(last_used_at: datetime | None) -> bool:
    return last_used_at is None or last_used_at < timezone.now() - LAST_USED_PRECISION


def _active_secrets(partner_id: int, mode: str) -> list[str]:
    return _secrets.fetch((partner_id, mode), lambda: signing_secret_values_active(partner_id=partner_id, mode=mode))


@dataclass(frozen=True)
class PartnerAuth:
    """``request.auth`` of an authenticated partner request."""

    partner: Partner
    mode: str
    scopes: frozenset[str]
    credential: ApiCredential
    # the rate limit's decision when it was taken with the replay claim (signed requests)
    rate: RateDecision | None = None

    @property
    def is_test(self) -> bool:
        return self.mode == Mode.TEST

    @property
    def is_live(self) -> bool:
        return self.mode == Mode.LIVE

    def has_scopes(self, *scopes: str) -> bool:
        return set(scopes) <= self.scopes


class PartnerUser:
    """``request.user`` of an authenticated partner request: the partner, dressed as a user."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, partner: Partner) -> None:
        self.partner = partner
        self.pk = partner.pk
        self.username = partner.code

    def __str__(self) -> str:
        return self.partner.public_id


def _unauthorized(code: ErrorCode, detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(detail, code=code, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def _bearer_key(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise _unauthorized(ErrorCode.AUTHENTICATION_REQUIRED, "Send your API key as 'Authorization: Bearer <key>'.")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized(ErrorCode.INVALID_API_KEY, "The Authorization header must be 'Bearer <key>'.")
    return key.strip()


def _check_address(partner: Partner, django_request: HttpRequest) -> None:
    if not partner.ip_allowlist:
        return
    try:
        address = ipaddress.ip_address(django_request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        address = None
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in partner.ip_allowlist]
    if address is None or not any(address in network for network in networks):
        raise PermissionDenied(
            "Requests from this address are not allowed for this partner.", code=ErrorCode.IP_NOT_ALLOWED
        )


def _signed_paths(django_request: HttpRequest) -> list[str]:
    """The request target as Django rebuilds it and, under gunicorn, exactly as it was sent."""
    paths = [django_request.get_full_path()]
    raw = django_request.META.get("RAW_URI", "")
    if raw.startswith("/") and raw not in paths:
        paths.append(raw)
    return paths


def _raw_body(django_request: HttpRequest) -> bytes:
    try:
        return django_request.body
    except RequestDataTooBig as exc:
        raise GatewayError("The request body is too large.", code=ErrorCode.PAYLOAD_TOO_LARGE, status=413) from exc


def verify_request_signature(django_request: HttpRequest, *, partner: Partner, mode: str) -> RateDecision:
    """Check ``X-Signature`` of a changing request; raise 401 with the precise code otherwise.
    The replay claim counts the request against the partner's rate: the decision is returned."""
    try:
        t, signatures = parse_signature_header(django_request.headers.get("X-Signature"))
    except SignatureHeaderError as exc:
        raise _unauthorized(
            ErrorCode.INVALID_SIGNATURE, "Sign the request: X-Signature: t=<unix seconds>,v1=<hex>."
        ) from exc
    body = _raw_body(django_request)
    method = django_request.method or ""
    secrets = _active_secrets(partner.pk, mode)
    # Every combination is computed: how long this takes says nothing about which part matched.
    matches = [
        signature
        for secret in secrets
        for path in _signed_paths(django_request)
        for signature in signatures
        if verify(secret, t, method, path, body, signature)
    ]
    if not matches:
        raise _unauthorized(ErrorCode.INVALID_SIGNATURE, "The signature does not match the request.")
    if not timestamp_is_fresh(t):
        raise _unauthorized(ErrorCode.SIGNATURE_EXPIRED, "The signature timestamp is more than 300 s away from now.")
    guard = request_guard(
        rate_key=rate_key(partner),
        limit=partner.rate_limit_per_minute,
        scope=f"{partner.pk}:{mode}",
        t=t,
        signature=matches[0],
    )
    if guard.replayed:
        raise _unauthorized(ErrorCode.SIGNATURE_REPLAYED, "This exact signed request was already received.")
    return guard.rate


def rate_key(partner: Partner) -> str:
    """The partner's rate-limit window in Redis: one for both modes."""
    return f"partner:{partner.pk}"


class PartnerApiKeyAuthentication(BaseAuthentication):
    """DRF authentication of the partner API: API key, partner state, address, signature."""

    def authenticate(self, request: Request) -> tuple[PartnerUser, PartnerAuth]:
        credential = _credential_of(_bearer_key(request))
        if credential is None:
            raise _unauthorized(ErrorCode.INVALID_API_KEY, "The API key is not valid.")
        if not credential.is_active:
            raise _unauthorized(ErrorCode.INVALID_API_KEY, "The API key has been revoked.")
        partner = copy.copy(credential.partner)  # the request's own: the cached one stays as read
        partner_var.set(partner.public_id)  # reset by the request-id middleware at the end
        if not partner.is_active:
            raise PermissionDenied("This partner is suspended.", code=ErrorCode.PARTNER_SUSPENDED)
        django_request = request._request
        _check_address(partner, django_request)
        rate = None
        if (request.method or "").upper() in SIGNED_METHODS:
            rate = verify_request_signature(django_request, partner=partner, mode=credential.mode)
        _touch(credential)
        auth = PartnerAuth(
            partner=partner, mode=credential.mode, scopes=frozenset(partner.scopes), credential=credential, rate=rate
        )
        return PartnerUser(partner), auth

    def authenticate_header(self, request: Request) -> str:
        return WWW_AUTHENTICATE


def partner_auth_of(request: Any) -> PartnerAuth:
    """``request.auth`` as a ``PartnerAuth``; 401 when the request is not partner-authenticated."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, PartnerAuth):
        raise _unauthorized(ErrorCode.AUTHENTICATION_REQUIRED, "Partner authentication is required.")
    return auth
