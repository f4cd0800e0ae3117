"""Provider float balances for GET /api/v1/balances (registered in MobileMoneyConfig.ready): one
per provider of the rail configured in the mode, read from the data at each call."""

from __future__ import annotations

from collections.abc import Callable

from core.money import Money
from mobilemoney.connectors import RAIL, connection_for
from partners.providers import provider_codes, provider_connections
from partners.registry import connector_session


def float_source(provider: str) -> Callable[[str], Money]:
    """Our float at ``provider`` in a mode, asked of the provider (read-only)."""

    def source(mode: str) -> Money:
        with connector_session(connection_for(provider=provider, mode=mode)) as connector:
            return connector.balance()

    return source


def float_sources(mode: str) -> dict[str, Callable[[str], Money]]:
    """A float source for every provider of the rail with a connection in ``mode``."""
    codes = provider_codes(rail=RAIL)
    return {
        code: float_source(code) for code in codes if provider_connections(provider=code).filter(mode=mode).exists()
    }
