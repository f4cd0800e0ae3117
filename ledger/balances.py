"""Provider float balances for ``GET /api/v1/balances``.

Rails register a function per provider that asks the provider for the bank's float in a mode
(``register_float_source("wave", fn)`` in their ``AppConfig.ready``); the ledger never imports a
rail. A source that fails is reported as unavailable instead of failing the whole answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import GatewayError, ProviderError
from core.money import Money

logger = logging.getLogger("ledger.balances")

FloatSource = Callable[[str], Money]  # mode -> the provider's float balance
_sources: dict[str, FloatSource] = {}


@dataclass(frozen=True)
class FloatBalance:
    provider: str
    money: Money | None
    error: str | None = None


# A rail whose providers are data registers a function listing them per mode instead (new
# providers then join the balances at once, with no restart: docs/adding-a-provider.md).
FloatSources = Callable[[str], dict[str, FloatSource]]  # mode -> {provider: source}
_source_lists: list[FloatSources] = []


def register_float_source(provider: str, source: FloatSource) -> None:
    _sources[provider] = source


def register_float_sources(sources: FloatSources) -> None:
    if sources not in _source_lists:
        _source_lists.append(sources)


def provider_floats(*, mode: str) -> list[FloatBalance]:
    out = []
    listed = dict(_sources)
    for sources in _source_lists:
        listed.update(sources(mode))
    for provider, source in sorted(listed.items()):
        try:
            out.append(FloatBalance(provider, source(mode)))
        except ProviderError as exc:
            logger.warning("float balance of %s unavailable: %s", provider, exc)
            out.append(FloatBalance(provider, None, exc.code))
        except (LookupError, GatewayError) as exc:  # no connection configured for this mode
            out.append(FloatBalance(provider, None, type(exc).__name__))
    return out
