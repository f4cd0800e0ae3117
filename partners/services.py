"""Writes about who connects: partners, API keys, signing secrets, provider connections.

Clear API keys and signing secrets exist only in the return value of the service that made
them (``IssuedApiKey``, ``IssuedSigningSecret``, ``PartnerCreated``): the database holds the
key's hash and the secret's Fernet token, and nothing here logs either.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from core.crypto import DecryptionError, is_encrypted_with_primary, reencrypt
from core.errors import Conflict, ErrorCode, FieldError, ProviderError, ValidationFailed
from core.money import Money, exponent
from partners.models import (
    ALL_SCOPES,
    ApiCredential,
    Mode,
    Partner,
    PartnerLimit,
    ProviderConnection,
    Rail,
    SigningSecret,
)
from partners.registry import UnknownConnector, connector_session, is_registered
from partners.selectors import hash_api_key, partner_has_live_access, signing_secret_list_active
from partners.webhooks import validate_webhook_url

API_KEY_PREFIXES = {Mode.TEST: "ak_test_", Mode.LIVE: "ak_live_"}
SIGNING_SECRET_PREFIXES = {Mode.TEST: "ss_test_", Mode.LIVE: "ss_live_"}
VISIBLE_KEY_CHARS = 4  # random characters kept after the prefix, for display
MAX_ACTIVE_SECRETS = 2
LAST_USED_PRECISION = timedelta(seconds=60)  # last_used_at is written at most once a minute


@dataclass(frozen=True)
class IssuedApiKey:
    credential: ApiCredential
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class IssuedSigningSecret:
    signing_secret: SigningSecret
    secret: str = field(repr=False)


@dataclass(frozen=True)
class PartnerCreated:
    """A new partner with its first credentials, in clear, to be shown once."""

    partner: Partner
    mode: str
    credential: ApiCredential
    api_key: str = field(repr=False)
    signing_secret: str = field(repr=False)


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", errors=[FieldError(name, message)])


def _check_mode(mode: str) -> str:
    if mode not in Mode.values:
        raise _invalid("mode", f"must be one of {', '.join(Mode.values)}")
    return mode


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted(set(scopes))
    unknown = [scope for scope in cleaned if scope not in ALL_SCOPES]
    if unknown:
        raise _invalid("scopes", f"unknown scope(s): {', '.join(unknown)}")
    return cleaned


def clean_ip_allowlist(entries: Iterable[str]) -> list[str]:
    try:
        return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in entries]
    except ValueError as exc:
        raise _invalid("ip_allowlist", str(exc)) from exc


def _webhook_mode(partner: Partner) -> str:
    """A webhook serves every mode of the partner, so it meets the strictest one it has."""
    return Mode.LIVE if partner_has_live_access(partner=partner) else Mode.TEST


def _partner_locked(partner: Partner) -> Partner:
    """Lock the partner row: credential changes of one partner happen one at a time."""
    return Partner.objects.select_for_update().get(pk=partner.pk)


def partner_code_from_name(name: str) -> str:
    """A free partner code derived from ``name``: ``orange-money``, ``orange-money-2``…"""
    base = slugify(name)[:50].strip("-") or "partner"
    code, n = base, 1
    while Partner.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def partner_create(
    *,
    name: str,
    mode: str,
    scopes: Iterable[str],
    code: str | None = None,
    webhook_url: str = "",
    ip_allowlist: Iterable[str] = (),
    rate_limit_per_minute: int | None = None,
) -> PartnerCreated:
    """Create a partner with one API key and one signing secret in ``mode``."""
    _check_mode(mode)
    if webhook_url:
        validate_webhook_url(webhook_url, mode)
    with transaction.atomic():
        partner = partner_register(
            name=name,
            scopes=scopes,
            code=code,
            webhook_url=webhook_url,
            ip_allowlist=ip_allowlist,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        issued_key = api_credential_issue(partner=partner, mode=mode, label="initial")
        issued_secret = signing_secret_rotate(partner=partner, mode=mode)
    return PartnerCreated(
        partner=partner,
        mode=mode,
        credential=issued_key.credential,
        api_key=issued_key.api_key,
        signing_secret=issued_secret.secret,
    )


def partner_update(
    *,
    partner: Partner,
    scopes: Iterable[str] | None = None,
    ip_allowlist: Iterable[str] | None = None,
    rate_limit_per_minute: int | None = None,
    webhook_url: str | None = None,
) -> Partner:
    """Change the given settings (``None`` leaves a setting as it is)."""
    updates: dict[str, Any] = {}
    if scopes is not None:
        updates["scopes"] = _clean_scopes(scopes)
    if ip_allowlist is not None:
        updates["ip_allowlist"] = clean_ip_allowlist(ip_allowlist)
    if rate_limit_per_minute is not None:
        updates["rate_limit_per_minute"] = rate_limit_per_minute
    if webhook_url is not None and webhook_url != partner.webhook_url:
        if webhook_url:
            validate_webhook_url(webhook_url, _webhook_mode(partner))
        updates["webhook_url"] = webhook_url
    for name, value in updates.items():
        setattr(partner, name, value)
    if updates:
        partner.save(update_fields=[*updates, "updated_at"])
    return partner


def partner_suspend(*, partner: Partner) -> Partner:
    """Refuse every request of the partner (403 ``partner_suspended``) until reactivated."""
    partner.status = Partner.Status.SUSPENDED
    partner.save(update_fields=["status", "updated_at"])
    return partner


def partner_reactivate(*, partner: Partner) -> Partner:
    partner.status = Partner.Status.ACTIVE
    partner.save(update_fields=["status", "updated_at"])
    return partner


def api_credential_issue(*, partner: Partner, mode: str, label: str = "") -> IssuedApiKey:
    """A new API key for ``partner`` in ``mode``; the clear key is returned once, never stored."""
    _check_mode(mode)
    if mode == Mode.LIVE and partner.webhook_url:
        validate_webhook_url(partner.webhook_url, Mode.LIVE)  # live access: the webhook must meet live rules
    api_key = API_KEY_PREFIXES[Mode(mode)] + secrets.token_urlsafe(32)
    credential = ApiCredential.objects.create(
        partner=partner,
        mode=mode,
        key_prefix=api_key[: len(API_KEY_PREFIXES[Mode(mode)]) + VISIBLE_KEY_CHARS],
        key_hash=hash_api_key(api_key),
        label=label,
    )
    return IssuedApiKey(credential=credential, api_key=api_key)


def api_credential_revoke(*, credential: ApiCredential) -> ApiCredential:
    """Revoke a key at once (idempotent: revoking a revoked key changes nothing)."""
    ApiCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    credential.refresh_from_db(fields=["revoked_at"])
    return credential


def api_credential_touch(*, credential: ApiCredential) -> None:
    """Record a use of the key, at most once a minute (no write per request)."""
    now = timezone.now()
    if credential.last_used_at is not None and credential.last_used_at >= now - LAST_USED_PRECISION:
        return  # recent enough as loaded: not even a query
    ApiCredential.objects.filter(pk=credential.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)


def signing_secret_rotate(*, partner: Partner, mode: str) -> IssuedSigningSecret:
    """Add a new active secret. The previous one stays active (two during a rotation); when two
    are already active, the oldest is revoked first, so never more than two are active."""
    _check_mode(mode)
    clear = SIGNING_SECRET_PREFIXES[Mode(mode)] + secrets.token_urlsafe(32)
    with transaction.atomic():
        _partner_locked(partner)
        active = list(signing_secret_list_active(partner=partner, mode=mode))
        while len(active) >= MAX_ACTIVE_SECRETS:
            _revoke_secret_row(active.pop())  # the oldest
        used_slots = {row.slot for row in active}
        slot = next(s for s in range(1, MAX_ACTIVE_SECRETS + 1) if s not in used_slots)
        row = SigningSecret.objects.create(partner=partner, mode=mode, secret=clear, slot=slot)
    return IssuedSigningSecret(signing_secret=row, secret=clear)


def _revoke_secret_row(row: SigningSecret) -> None:
    SigningSecret.objects.filter(pk=row.pk, status=SigningSecret.Status.ACTIVE).update(
        status=SigningSecret.Status.REVOKED, slot=None, revoked_at=timezone.now()
    )


def signing_secret_revoke(*, signing_secret: SigningSecret) -> SigningSecret:
    """Revoke one secret at once (idempotent). Requests signed with it are refused from now on."""
    _revoke_secret_row(signing_secret)
    signing_secret.refresh_from_db(fields=["status", "slot", "revoked_at"])
    return signing_secret


def signing_secret_revoke_previous(*, partner: Partner, mode: str) -> int:
    """End a rotation: revoke every active secret but the newest. Returns how many were revoked."""
    with transaction.atomic():
        _partner_locked(partner)
        older = list(signing_secret_list_active(partner=partner, mode=mode))[1:]
        for row in older:
            _revoke_secret_row(row)
    return len(older)


def _check_connection_values(*, mode: str, connector: str, base_url: str, timeouts: Iterable[float]) -> None:
    _check_mode(mode)
    if not is_registered(connector):
        raise _invalid("connector", f"no connector registered as {connector!r}")
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise _invalid("base_url", "must be an http(s) URL with a host")
    if any(not value > 0 for value in timeouts):
        raise _invalid("timeouts", "connect and read timeouts must be positive")


def provider_connection_upsert(
    *,
    partner: Partner,
    mode: str,
    connector: str,
    base_url: str,
    credentials: Mapping[str, Any] | None = None,
    connect_timeout_seconds: float | None = None,
    read_timeout_seconds: float | None = None,
    limits: Mapping[str, Any] | None = None,
    is_enabled: bool | None = None,
    provider_code: str | None = None,
    currency: str | None = None,
) -> ProviderConnection:
    """Create or update the connection (partner, mode, connector); ``None`` keeps a value."""
    with transaction.atomic():
        _partner_locked(partner)
        row = ProviderConnection.objects.filter(partner=partner, mode=mode, connector=connector).first()
        row = row or ProviderConnection(partner=partner, mode=mode, connector=connector)
        row.base_url = base_url
        for name, value in (
            ("credentials", None if credentials is None else dict(credentials)),
            ("connect_timeout_seconds", connect_timeout_seconds),
            ("read_timeout_seconds", read_timeout_seconds),
            ("limits", None if limits is None else dict(limits)),
            ("is_enabled", is_enabled),
            ("provider_code", provider_code),  # a provider added as data (partners/providers.py)
            ("currency", currency),
        ):
            if value is not None:
                setattr(row, name, value)
        _check_connection_values(
            mode=mode,
            connector=connector,
            base_url=base_url,
            timeouts=(row.connect_timeout_seconds, row.read_timeout_seconds),
        )
        row.save()
    return row


ENCRYPTED_COLUMNS: tuple[tuple[type[SigningSecret] | type[ProviderConnection], str], ...] = (
    (SigningSecret, "secret"),
    (ProviderConnection, "credentials"),
)


def reencrypt_all() -> dict[str, int]:
    """Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS.

    Rows already under that key are left alone; each update is a compare-and-swap on the old
    token, so a concurrent change is never overwritten. Returns ``{"<model>.<field>": rewritten}``.
    Raises ``DecryptionError`` naming the row when no configured key opens a value.
    """
    counts: dict[str, int] = {}
    for model, field_name in ENCRYPTED_COLUMNS:
        column = model._meta.get_field(field_name).column  # type: ignore[union-attr]
        table = model._meta.db_table
        label = f"{model._meta.label}.{field_name}"
        counts[label] = 0
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT id, "{column}" FROM "{table}" ORDER BY id')  # noqa: S608 - names from _meta
            rows = cursor.fetchall()
        for pk, token in rows:
            if token is None or is_encrypted_with_primary(token):
                continue
            try:
                fresh = reencrypt(token)
            except DecryptionError as exc:
                raise DecryptionError(f"{label} of row {pk} cannot be decrypted with any key") from exc
            with connection.cursor() as cursor:
                cursor.execute(
                    f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s AND "{column}" = %s',  # noqa: S608
                    [fresh, pk, token],
                )
                counts[label] += cursor.rowcount
    return counts


def partner_limit_set(
    *,
    partner: Partner,
    mode: str,
    rail: str,
    currency: str = "XOF",
    max_per_transaction_minor: int | None,
    max_per_day_minor: int | None,
) -> PartnerLimit | None:
    """Set the partner's limits on ``rail`` in ``mode`` and ``currency`` (``None``: no such limit;
    both ``None`` removes the row). Live limits are changed through a four-eyes request
    (``approvals``); this applies them."""
    _check_mode(mode)
    if rail not in Rail.values:
        raise _invalid("rail", f"must be one of {', '.join(Rail.values)}")
    exponent(currency)  # refuses unknown currencies
    for name, value in (("max_per_transaction", max_per_transaction_minor), ("max_per_day", max_per_day_minor)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise _invalid(name, "must be a positive amount, or empty for no limit")
    if max_per_transaction_minor is None and max_per_day_minor is None:
        PartnerLimit.objects.filter(partner=partner, mode=mode, rail=rail, currency=currency).delete()
        return None
    row, _ = PartnerLimit.objects.update_or_create(
        partner=partner,
        mode=mode,
        rail=rail,
        currency=currency,
        defaults={"max_per_transaction_minor": max_per_transaction_minor, "max_per_day_minor": max_per_day_minor},
    )
    return row


def partner_limits_describe(*, partner: Partner, mode: str) -> dict[str, dict[str, Any]]:
    """The partner's limits in ``mode`` as ``{rail: {"currency", "max_per_transaction", "max_per_day"}}``
    (decimal strings; ``None``: no limit): what four-eyes requests show as current values."""
    return {
        row.rail: {
            "currency": row.currency,
            "max_per_transaction": _decimal_or_none(row.max_per_transaction_minor, row.currency),
            "max_per_day": _decimal_or_none(row.max_per_day_minor, row.currency),
        }
        for row in PartnerLimit.objects.filter(partner=partner, mode=mode).order_by("rail", "currency")
    }


def _decimal_or_none(minor: int | None, currency: str) -> str | None:
    return None if minor is None else Money(minor, currency).to_decimal_string()


CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")


def partner_register(
    *,
    name: str,
    scopes: Iterable[str] = (),
    code: str | None = None,
    webhook_url: str = "",
    ip_allowlist: Iterable[str] = (),
    rate_limit_per_minute: int | None = None,
    contact: Mapping[str, str] | None = None,
) -> Partner:
    """Create a partner without credentials (the console issues them per mode afterwards)."""
    if not name.strip():
        raise _invalid("name", "must not be empty")
    if webhook_url:
        validate_webhook_url(webhook_url, Mode.TEST)  # no live key yet; issuing one checks it again
    partner = Partner(
        name=name.strip(),
        code=code or partner_code_from_name(name),
        scopes=_clean_scopes(scopes),
        ip_allowlist=clean_ip_allowlist(ip_allowlist),
        webhook_url=webhook_url,
        **{key: str(value).strip() for key, value in (contact or {}).items() if key in CONTACT_FIELDS},
    )
    if rate_limit_per_minute is not None:
        partner.rate_limit_per_minute = rate_limit_per_minute
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError as exc:
        raise Conflict(f"A partner with code {partner.code!r} already exists.", code=ErrorCode.DUPLICATE) from exc
    return partner


def partner_contact_update(*, partner: Partner, name: str, contact: Mapping[str, str]) -> Partner:
    """Change the partner's display name and contact details (no effect on the API)."""
    if not name.strip():
        raise _invalid("name", "must not be empty")
    partner.name = name.strip()
    for key in CONTACT_FIELDS:
        setattr(partner, key, str(contact.get(key) or "").strip())
    partner.save(update_fields=["name", *CONTACT_FIELDS, "updated_at"])
    return partner


@dataclass(frozen=True)
class IssuedCredentials:
    """A new API key in ``mode`` and, when the mode had no active secret yet, a signing secret."""

    mode: str
    key: IssuedApiKey
    secret: IssuedSigningSecret | None


def partner_credentials_issue(*, partner: Partner, mode: str, label: str = "") -> IssuedCredentials:
    """Issue an API key in ``mode`` and, if the partner has no active signing secret in that mode,
    its first secret: both in clear in the return value only (shown once)."""
    with transaction.atomic():
        key = api_credential_issue(partner=partner, mode=mode, label=label)
        has_secret = signing_secret_list_active(partner=partner, mode=mode).exists()
        secret = None if has_secret else signing_secret_rotate(partner=partner, mode=mode)
    return IssuedCredentials(mode=mode, key=key, secret=secret)


@dataclass(frozen=True)
class ConnectionTest:
    """What "test connection" saw: whether the provider answered, its answer, how long it took."""

    ok: bool
    answer: str
    latency_ms: int


PROBE_REFERENCE = "connection-test"  # a reference no operation carries: a status query moves nothing


def _probe(connector: Any) -> str:
    """Ask the provider something harmless: its balance, else the status of a made-up reference."""
    if callable(getattr(connector, "balance", None)):
        balance = connector.balance()
        return f"balance {balance.to_decimal_string()} {balance.currency}"
    for name in ("transfer_status", "credit_status"):
        status = getattr(connector, name, None)
        if callable(status):
            return f"{name} answered: {status(PROBE_REFERENCE)}"
    return "the connector has no balance or status call to try"


def provider_connection_test(*, connection: ProviderConnection) -> ConnectionTest:
    """Call the provider's balance (or status) endpoint through ``connector_session``, so the
    call is recorded as a provider call like any other. ``ConnectorUnavailable`` when disabled."""
    started = time.monotonic()
    try:
        with connector_session(connection) as connector:
            answer, ok = _probe(connector), True
    except ProviderError as exc:
        answer, ok = f"{type(exc).__name__}: {exc.message}", False
    except UnknownConnector as exc:
        answer, ok = str(exc), False
    return ConnectionTest(ok=ok, answer=answer, latency_ms=round((time.monotonic() - started) * 1000))
