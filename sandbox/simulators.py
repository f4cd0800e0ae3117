"""Which simulator stands for which connector, where it is mounted, and how a sandbox account is
opened on it (``manage.py add_provider --sandbox``, docs/adding-a-provider.md).

Wave and Orange Money are listed here; any other simulator declares itself in
``sandbox/<name>/simulator.py`` (``SIMULATOR = Simulator(...)``) and is found by
``simulators()``: a new simulator is a new package and nothing else (sandbox/urls.py mounts it).
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

import sandbox
from sandbox.orange_money.accounts import om_account_register, om_connector_credentials
from sandbox.wave.accounts import wave_account_register, wave_connector_credentials

Credentials = dict[str, str]


@dataclass(frozen=True)
class Simulator:
    connector: str  # the registered connector name it simulates
    prefix: str  # mounted at /sandbox/<prefix>
    urls: str  # its URL module
    open_account: Callable[[str], Credentials]  # callback URL -> the connection's credentials


def _wave(callback_url: str) -> Credentials:
    return wave_connector_credentials(wave_account_register(callback_url=callback_url))


def _orange_money(callback_url: str) -> Credentials:
    return om_connector_credentials(om_account_register(callback_url=callback_url))


BUILT_IN = (
    Simulator("wave", "wave/", "sandbox.wave.urls", _wave),
    Simulator("orange_money", "orange-money/", "sandbox.orange_money.urls", _orange_money),
)


def discovered() -> list[Simulator]:
    """Every ``SIMULATOR`` declared in a ``sandbox/<package>/simulator.py``, by package name."""
    found = []
    for module in sorted(pkgutil.iter_modules(sandbox.__path__), key=lambda m: m.name):
        name = f"sandbox.{module.name}.simulator"
        if module.ispkg and find_spec(name) is not None:
            found.append(import_module(name).SIMULATOR)
    return found


def simulators() -> dict[str, Simulator]:
    """The simulators by the connector they stand for."""
    return {simulator.connector: simulator for simulator in (*BUILT_IN, *discovered())}
