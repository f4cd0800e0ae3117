"""Provider float balances for GET /api/v1/balances (registered in MobileMoneyConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable

from core.money import Money
from mobilemoney.connectors import connection_for
from partners.registry import connector_session


def float_source(provider: str) -> Callable[[str], Money]:
    """Our float at ``provider`` in a mode, asked of the provider (read-only)."""

    def source(mode: str) -> Money:
        with connector_session(connection_for(provider=provider, mode=mode)) as connector:
            return connector.balance()

    return source
