"""Connector registry: a provider connection's ``connector`` name → the class that speaks to it.

Concrete connectors register themselves where they are defined::

    @register("wave")
    class WaveConnector(MobileMoneyProvider):
        def __init__(self, settings: ConnectorSettings) -> None: ...

and each app imports its ``providers`` modules in ``AppConfig.ready()`` so the registry is
complete once Django is set up. Nothing here imports a concrete provider (docs/conventions.md §3).

One lifecycle for every connector: callers open ``connector_session(connection)`` (or
``connector_session_for(provider_code=…, mode=…)``), which builds the connector, opens the
provider-call scope (rail, provider, mode) so every call it makes is recorded, and closes the
connector's HTTP sessions when the block ends, whatever happened inside.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from core.errors import ErrorCode, ServiceUnavailable
from core.http import Timeouts
from core.provider_calls import call_scope
from partners.models import ProviderConnection
from partners.selectors import provider_connection_for_provider

C = TypeVar("C", bound=type)

_registry: dict[str, type] = {}
_lock = threading.Lock()


class UnknownConnector(LookupError):
    """No connector class is registered under this name."""


class ConnectorUnavailable(ServiceUnavailable):
    """The provider connection exists but is disabled."""

    code = ErrorCode.PROVIDER_NOT_CONFIGURED
    title = "Provider not available"


@dataclass(frozen=True)
class ConnectorSettings:
    """Everything a connector needs from its provider connection (decrypted, model-free)."""

    connection_id: str
    connector: str
    provider_code: str
    mode: str
    base_url: str
    credentials: Mapping[str, Any] = field(repr=False)
    timeouts: Timeouts
    limits: Mapping[str, Any]
    # the provider's code (``ProviderConnection.provider``: wave_ci on the wave connector), for
    # the connector's metrics and logs; empty in hand-built settings: the connector's name
    provider: str = ""
    currency: str = "XOF"

    @property
    def provider_label(self) -> str:
        """What the connector's calls are labelled with: the provider's code, else the connector's name."""
        return self.provider or self.connector

    @classmethod
    def from_connection(cls, connection: ProviderConnection) -> ConnectorSettings:
        return cls(
            connection_id=connection.public_id,
            connector=connection.connector,
            provider_code=connection.partner.code,
            mode=connection.mode,
            base_url=connection.base_url,
            credentials=MappingProxyType(_as_mapping(connection.credentials)),
            timeouts=Timeouts(connect=connection.connect_timeout_seconds, read=connection.read_timeout_seconds),
            limits=MappingProxyType(dict(connection.limits or {})),
            provider=connection.provider_code,
            currency=connection.currency,
        )


def _as_mapping(value: object) -> dict[str, Any]:
    """Decrypted credentials are a JSON object; anything else is a configuration error."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise TypeError("provider connection credentials must be a JSON object")
    return dict(value)


def register(name: str) -> Callable[[C], C]:
    """Class decorator: register the class under ``name``. Registering another class under a
    taken name is an error (two providers must never share a name)."""

    def decorator(cls: C) -> C:
        with _lock:
            existing = _registry.get(name)
            # The same class registered again (a module reloaded) is fine; another class is not.
            if existing is not None and _dotted(existing) != _dotted(cls):
                raise ValueError(f"connector {name!r} is already registered to {_dotted(existing)}")
            _registry[name] = cls
        return cls

    return decorator


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def unregister(name: str) -> None:
    """Remove a name (tests that register throw-away connectors clean up with it)."""
    with _lock:
        _registry.pop(name, None)


def is_registered(name: str) -> bool:
    return name in _registry


def connector_names() -> list[str]:
    return sorted(_registry)


def get_connector_class(name: str) -> type:
    try:
        return _registry[name]
    except KeyError:
        raise UnknownConnector(f"no connector registered as {name!r}") from None


def build_connector(connection: ProviderConnection) -> Any:
    """An instance of the connection's connector class, built from its settings.

    Raises ``ConnectorUnavailable`` (503 ``provider_not_configured``) when the connection is
    disabled and ``UnknownConnector`` when its name is not registered (a deployment bug).
    """
    if not connection.is_enabled:
        raise ConnectorUnavailable(f"The {connection.connector} connection is disabled.")
    cls = get_connector_class(connection.connector)
    return cls(ConnectorSettings.from_connection(connection))


def rail_of(cls: type) -> str:
    """The rail a connector class serves: its interface's ``rail`` attribute, else its app."""
    return str(getattr(cls, "rail", "") or cls.__module__.split(".", 1)[0])


@contextmanager
def connector_session(connection: ProviderConnection) -> Iterator[Any]:
    """Build the connection's connector for the block, record its calls, close it afterwards."""
    connector = build_connector(connection)
    try:
        # a provider added as data is recorded under its own code; the built-in ones under their partner's
        provider = connection.provider_code or connection.partner.code
        with call_scope(rail=rail_of(type(connector)), provider=provider, mode=connection.mode):
            yield connector
    finally:
        close = getattr(connector, "close", None)
        if callable(close):
            close()


@contextmanager
def connector_session_for(*, provider_code: str, mode: str) -> Iterator[Any]:
    """``connector_session`` of the one enabled connection of a provider partner in ``mode``
    (``NotFound`` when there is none)."""
    with connector_session(provider_connection_for_provider(provider_code=provider_code, mode=mode)) as connector:
        yield connector
