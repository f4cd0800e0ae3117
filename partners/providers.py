"""Providers as data (docs/adding-a-provider.md): a provider is a provider partner and its
connections, one per mode, each naming a registered connector and the provider's code.

A provider of a kind we already speak (another country's Wave) is therefore a few rows, created
by ``provider_add`` (``manage.py add_provider``, the console) and usable at once by every part
of the gateway that takes a provider code: the rails find its connection with
``provider_connection_resolve``. Nothing here imports a rail (docs/conventions.md §3): a
connector's rail comes from the registry.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from core.errors import BusinessRuleViolation, ErrorCode, FieldError, ServiceUnavailable, ValidationFailed
from core.money import MoneyError, exponent
from core.short_cache import ShortCache
from partners.models import PROVIDER_CODE_RE, Mode, Partner, ProviderConnection, Rail
from partners.registry import get_connector_class, is_registered, rail_of
from partners.services import partner_register, provider_connection_upsert


class ProviderDisabled(BusinessRuleViolation):
    """The provider was disabled or removed: it takes no new work (its history stays readable)."""

    code = ErrorCode.PROVIDER_DISABLED
    title = "Provider disabled"


def provider_q(provider: str) -> Q:
    """The connections of the provider ``provider``. Rows without a ``provider_code`` are the
    built-in providers' (wave, orange_money): theirs is their connector's name, or their
    partner's code spelt with hyphens (``orange-money``), as before providers were data."""
    legacy = Q(connector=provider) | Q(partner__code=provider.replace("_", "-"))
    return Q(provider_code=provider) | (Q(provider_code="") & legacy)


def provider_connections(*, provider: str) -> QuerySet[ProviderConnection]:
    return ProviderConnection.objects.select_related("partner").filter(provider_q(provider))


def connector_rail(connector: str) -> str | None:
    """The rail of a registered connector (``None`` when the name is not registered)."""
    return rail_of(get_connector_class(connector)) if is_registered(connector) else None


# What the accept path reads on every request, kept ``CONFIGURATION_CACHE_SECONDS`` per process
# (core/short_cache.py): a provider disabled, removed or added reaches every worker within it.
_codes: ShortCache[str, list[str]] = ShortCache("CONFIGURATION_CACHE_SECONDS")
_resolved: ShortCache[tuple[str, str], ProviderConnection] = ShortCache("CONFIGURATION_CACHE_SECONDS")


def provider_codes(*, rail: str) -> list[str]:
    """Every provider code with a connection on ``rail`` (any mode, enabled or not)."""

    def load() -> list[str]:
        rows = ProviderConnection.objects.values_list("provider_code", "connector").distinct()
        return sorted({code or connector for code, connector in rows if connector_rail(connector) == rail})

    return list(_codes.fetch(rail, load))


def provider_connection_resolve(*, provider: str, mode: str) -> ProviderConnection:
    """The enabled connection of ``provider`` in ``mode``.

    ``ProviderDisabled`` (422) when the provider's connection in ``mode`` is disabled, or when
    the provider has no connection left at all (removed); ``ServiceUnavailable`` (503
    ``provider_not_configured``) when it exists in the other mode only, or is a connector's
    name never configured.
    """
    return copy.copy(_resolved.fetch((provider, mode), lambda: _resolve(provider=provider, mode=mode)))


def _resolve(*, provider: str, mode: str) -> ProviderConnection:
    rows = list(provider_connections(provider=provider).filter(mode=mode)[:2])
    enabled = [row for row in rows if row.is_enabled]
    if len(enabled) == 1:
        return enabled[0]
    if rows and not enabled:
        raise ProviderDisabled(f"The provider {provider!r} is disabled in {mode} mode: it takes no new work.")
    if not rows and not is_registered(provider) and not provider_connections(provider=provider).exists():
        raise ProviderDisabled(f"The provider {provider!r} was removed: it takes no new work.")
    raise ServiceUnavailable(f"{provider} is not configured in {mode} mode.", code=ErrorCode.PROVIDER_NOT_CONFIGURED)


@dataclass(frozen=True)
class ProviderSpec:
    """What ``provider_add`` needs: one provider code on one connector, in one mode."""

    code: str
    name: str
    rail: str
    connector: str
    mode: str
    base_url: str
    credentials: Mapping[str, Any]
    currency: str = "XOF"
    limits: Mapping[str, Any] | None = None
    connect_timeout_seconds: float | None = None
    read_timeout_seconds: float | None = None


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", errors=[FieldError(name, message)])


def provider_spec_check(spec: ProviderSpec) -> None:
    """Refuse (``ValidationFailed``) a spec that could not work, before anything is written."""
    if not re.fullmatch(PROVIDER_CODE_RE, spec.code):
        raise _invalid("code", "2-20 characters of a-z, 0-9 and _, starting with a letter (e.g. wave_ci)")
    if spec.rail not in Rail.values:
        raise _invalid("rail", f"must be one of {', '.join(Rail.values)}")
    rail = connector_rail(spec.connector)
    if rail is None:
        raise _invalid("connector", f"no connector is registered as {spec.connector!r}")
    if rail != spec.rail:
        raise _invalid("connector", f"{spec.connector} serves the {rail} rail, not {spec.rail}")
    if spec.mode not in Mode.values:
        raise _invalid("mode", f"must be one of {', '.join(Mode.values)}")
    try:
        exponent(spec.currency)
    except MoneyError as exc:
        raise _invalid("currency", f"{spec.currency!r} is not a currency we handle") from exc
    taken = provider_connections(provider=spec.code).exclude(partner__code=spec.code)
    if taken.exists() or (is_registered(spec.code) and spec.code != spec.connector):
        raise _invalid("code", f"{spec.code!r} is already another provider's code")


def provider_add(spec: ProviderSpec) -> ProviderConnection:
    """Create (or update) the provider ``spec.code``: its provider partner (code = the provider
    code) and its connection in ``spec.mode``. Usable at once: nothing else to change or restart."""
    provider_spec_check(spec)
    with transaction.atomic():
        partner = Partner.objects.filter(code=spec.code).first() or partner_register(name=spec.name, code=spec.code)
        connection = provider_connection_upsert(
            partner=partner,
            mode=spec.mode,
            connector=spec.connector,
            base_url=spec.base_url,
            credentials=dict(spec.credentials),
            connect_timeout_seconds=spec.connect_timeout_seconds,
            read_timeout_seconds=spec.read_timeout_seconds,
            limits=None if spec.limits is None else dict(spec.limits),
            is_enabled=True,
        )
        connection.provider_code = spec.code
        connection.currency = spec.currency
        connection.save(update_fields=["provider_code", "currency", "updated_at"])
    return connection


def provider_enable(*, provider: str, enabled: bool, mode: str | None = None) -> int:
    """Enable or disable every connection of ``provider`` (in ``mode`` when given); the count."""
    rows = provider_connections(provider=provider)
    if mode:
        rows = rows.filter(mode=mode)
    return rows.update(is_enabled=enabled)


def provider_remove(*, provider: str) -> int:
    """Remove the provider's connections: it takes no new work; its transactions, callbacks and
    reports keep its code and stay readable. Its partner row stays (it may be referenced)."""
    deleted, _ = provider_connections(provider=provider).delete()
    return deleted
