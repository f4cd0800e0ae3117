"""Reads of partners, credentials and provider connections."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet

from core.errors import NotFound
from partners.models import ApiCredential, Mode, Partner, ProviderConnection, SigningSecret


def hash_api_key(api_key: str) -> str:
    """What ``ApiCredential.key_hash`` stores: SHA-256 of the key, hex. Keys carry 256 random
    bits, so a fast hash is enough (no dictionary to guess from)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def api_credential_get_by_key(*, api_key: str) -> ApiCredential | None:
    """The credential of ``api_key`` (revoked ones too: callers check ``is_active``), with its partner."""
    return ApiCredential.objects.select_related("partner").filter(key_hash=hash_api_key(api_key)).first()


def api_credential_list(*, partner: Partner, mode: str | None = None) -> QuerySet[ApiCredential]:
    qs = ApiCredential.objects.filter(partner=partner).select_related("partner")
    return qs.filter(mode=mode) if mode else qs


def signing_secret_list_active(*, partner: Partner, mode: str) -> QuerySet[SigningSecret]:
    """Active secrets, newest first."""
    return SigningSecret.objects.filter(partner=partner, mode=mode, status=SigningSecret.Status.ACTIVE).order_by(
        "-created_at", "-pk"
    )


def signing_secret_values_active(*, partner_id: int, mode: str) -> list[str]:
    """The clear text of the active secrets of a partner in a mode (for verification only)."""
    rows = SigningSecret.objects.filter(partner_id=partner_id, mode=mode, status=SigningSecret.Status.ACTIVE)
    return [row.secret for row in rows.order_by("-created_at", "-pk")]


def partner_get(*, identifier: str) -> Partner:
    """A partner by public id (``ptn_…``) or code; ``NotFound`` otherwise."""
    field = "public_id" if identifier.startswith("ptn_") else "code"
    partner = Partner.objects.filter(**{field: identifier}).first()
    if partner is None:
        raise NotFound(f"No partner {identifier!r}.")
    return partner


def partner_has_live_access(*, partner: Partner) -> bool:
    """True when the partner holds an active live API key (its webhook is then held to live rules)."""
    return ApiCredential.objects.filter(partner=partner, mode=Mode.LIVE, revoked_at__isnull=True).exists()


def provider_connection_get(*, partner: Partner, mode: str, connector: str) -> ProviderConnection | None:
    return (
        ProviderConnection.objects.select_related("partner")
        .filter(partner=partner, mode=mode, connector=connector)
        .first()
    )


def provider_connection_list(
    *, mode: str | None = None, connector: str | None = None, enabled_only: bool = True
) -> QuerySet[ProviderConnection]:
    qs = ProviderConnection.objects.select_related("partner")
    if mode:
        qs = qs.filter(mode=mode)
    if connector:
        qs = qs.filter(connector=connector)
    if enabled_only:
        qs = qs.filter(is_enabled=True)
    return qs


def provider_connection_for_provider(*, provider_code: str, mode: str) -> ProviderConnection:
    """The enabled connection of the provider partner ``provider_code`` in ``mode``.

    ``NotFound`` when there is none (or more than one: then name the connector instead).
    """
    rows = list(provider_connection_list(mode=mode).filter(partner__code=provider_code)[:2])
    if len(rows) != 1:
        raise NotFound(f"No single enabled {mode} connection for provider {provider_code!r}.")
    return rows[0]
