"""From a provider code of the API (``wave``, ``orange_money``, ``wave_ci``…) to its provider
connection. Providers are data (docs/adding-a-provider.md): the codes are the connections' own
(``partners.providers``), never a list in the code base.

Connectors are built and closed by ``partners.registry.connector_session`` (one lifecycle for
every rail, every call recorded); this module only finds the connection to open it on.
"""

from __future__ import annotations

import copy

from core.errors import BusinessRuleViolation, ErrorCode
from core.short_cache import ShortCache
from ledger.models import Kind, Transaction
from partners.models import ProviderConnection
from partners.providers import connector_rail, provider_codes, provider_connection_resolve, provider_connections
from partners.registry import connector_names

RAIL = "mobile_money"
RAIL_KINDS = (Kind.CASH_IN, Kind.COLLECTION, Kind.REFUND)


def connection_for(*, provider: str, mode: str, currency: str | None = None) -> ProviderConnection:
    """The enabled connection of ``provider`` in ``mode``: 422 ``provider_disabled`` when it was
    disabled or removed, 503 ``provider_not_configured`` when it has none in this mode, and —
    new work names its ``currency`` — 422 ``unsupported_currency`` when the provider moves another."""
    connection = provider_connection_resolve(provider=provider, mode=mode)
    if currency is not None and currency != connection.currency:
        raise BusinessRuleViolation(
            f"{provider} moves {connection.currency}, not {currency}.", code=ErrorCode.UNSUPPORTED_CURRENCY
        )
    return connection


def rail_providers() -> list[str]:
    """The provider codes the rail knows: its connectors' names and every code configured on them."""
    connectors = [name for name in connector_names() if connector_rail(name) == RAIL]
    return sorted({*connectors, *provider_codes(rail=RAIL)})


def provider_is_known(provider: str) -> bool:
    """A code the rail accepts in a request: a known provider, or one removed whose history
    remains (new work is then refused with a 422 by ``connection_for``, not a 400)."""
    if provider in rail_providers():
        return True
    return Transaction.objects.filter(provider=provider, kind__in=RAIL_KINDS).exists()


# Every callback reads them: kept ``CONFIGURATION_CACHE_SECONDS`` per process (core/short_cache.py),
# so a connection disabled, or a webhook secret rotated, reaches every worker within that time.
_callback_connections: ShortCache[str, list[ProviderConnection]] = ShortCache("CONFIGURATION_CACHE_SECONDS")


def callback_connections(provider: str) -> list[ProviderConnection]:
    """Every enabled connection of ``provider``: a callback is checked against each, since test
    and live callbacks reach the same URL. Copies: a caller never changes the cached rows."""
    rows = _callback_connections.fetch(
        provider, lambda: list(provider_connections(provider=provider).filter(is_enabled=True))
    )
    return [copy.copy(row) for row in rows]
