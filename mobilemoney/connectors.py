"""From a provider name of the API (``wave``, ``orange_money``) to a built connector."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.errors import ErrorCode, NotFound, ServiceUnavailable
from mobilemoney.providers.base import MobileMoneyProvider
from partners.models import ProviderConnection
from partners.registry import build_connector
from partners.selectors import provider_connection_for_provider, provider_connection_list

# API provider name -> code of the provider partner (its connector has the API name).
PROVIDER_CODES = {"wave": "wave", "orange_money": "orange-money"}
CALLBACK_PATHS = {"wave": "wave", "orange_money": "orange-money"}


def connection_for(*, provider: str, mode: str) -> ProviderConnection:
    """The enabled connection of ``provider`` in ``mode``; 503 ``provider_not_configured`` if none."""
    try:
        return provider_connection_for_provider(provider_code=PROVIDER_CODES[provider], mode=mode)
    except (KeyError, NotFound) as exc:
        raise ServiceUnavailable(
            f"{provider} is not configured in {mode} mode.", code=ErrorCode.PROVIDER_NOT_CONFIGURED
        ) from exc


@contextmanager
def connector_for(*, provider: str, mode: str) -> Iterator[MobileMoneyProvider]:
    connector: MobileMoneyProvider = build_connector(connection_for(provider=provider, mode=mode))
    try:
        yield connector
    finally:
        connector.close()


def callback_connectors(provider: str) -> list[tuple[str, MobileMoneyProvider]]:
    """(mode, connector) of every enabled connection of ``provider``: a callback is checked
    against each, since test and live callbacks reach the same URL."""
    rows = provider_connection_list(connector=provider).filter(partner__code=PROVIDER_CODES[provider])
    return [(row.mode, build_connector(row)) for row in rows]
