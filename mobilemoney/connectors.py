"""From a provider name of the API (``wave``, ``orange_money``) to its provider connection.

Connectors are built and closed by ``partners.registry.connector_session`` (one lifecycle for
every rail, every call recorded); this module only finds the connection to open it on.
"""

from __future__ import annotations

from core.errors import ErrorCode, NotFound, ServiceUnavailable
from partners.models import ProviderConnection
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


def callback_connections(provider: str) -> list[ProviderConnection]:
    """Every enabled connection of ``provider``: a callback is checked against each, since test
    and live callbacks reach the same URL."""
    return list(
        provider_connection_list(connector=provider)
        .filter(partner__code=PROVIDER_CODES[provider])
        .select_related("partner")
    )
