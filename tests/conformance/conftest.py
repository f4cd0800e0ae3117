"""Conformance harness: every connector of a rail runs the rail's contract tests against its
simulator, over real HTTP (pytest-django's ``live_server`` serves the sandbox).

A rail's module (``test_<rail>.py``) declares its connectors with ``rail_connectors``::

    CONNECTORS = rail_connectors({
        "wave": setup_wave,          # (sandbox_url) -> ConnectorSettings, registering a sandbox account
        "orange_money": setup_om,
    })

    def test_cash_in_succeeds(connector): ...

and the ``connector`` fixture (parametrised over the names) builds each one through the
registry, exactly as the services do. A new provider is done when the module passes with it;
the mobile-money module lists the installed connectors itself (``installed_connectors``), so a
wallet's registry line in ``mobilemoney/providers/installed.py`` is its registration here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from core.http import Timeouts

SetupFn = Callable[[str], Any]  # sandbox base URL -> ConnectorSettings


@dataclass(frozen=True)
class RailConnectors:
    setups: Mapping[str, SetupFn]

    @property
    def names(self) -> list[str]:
        return sorted(self.setups)


def rail_connectors(setups: Mapping[str, SetupFn]) -> RailConnectors:
    return RailConnectors(dict(setups))


CONFORMANCE_TIMEOUTS = Timeouts(connect=2.0, read=1.5)


@pytest.fixture
def sandbox_url(live_server) -> str:  # type: ignore[no-untyped-def]
    return live_server.url + "/sandbox/"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    rail = getattr(metafunc.module, "CONNECTORS", None)
    if isinstance(rail, RailConnectors) and "connector_name" in metafunc.fixturenames:
        metafunc.parametrize("connector_name", rail.names)


@pytest.fixture
def connector_settings(request, connector_name: str, sandbox_url: str):  # type: ignore[no-untyped-def]
    rail: RailConnectors = request.module.CONNECTORS
    return rail.setups[connector_name](sandbox_url)


@pytest.fixture
def connector(connector_settings):  # type: ignore[no-untyped-def]
    from partners.registry import get_connector_class

    return get_connector_class(connector_settings.connector)(connector_settings)
