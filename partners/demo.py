"""Demo seeding hooks: each rail registers how it seeds its sandbox provider connections.

``manage.py seed_demo`` creates the staff user and the demo partner, then runs every seeder
registered here (rails put theirs in ``<app>/demo.py``, imported by autodiscovery), so this app
never imports a rail (dependencies point one way). A seeder must be idempotent.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules

# Read timeout of every demo provider connection. The simulators' "times out" outcome (9902)
# stalls SANDBOX_HANG_SECONDS (3 s by default): the read timeout must expire first, or the
# stalled answer simply arrives late and nothing ever goes through `unknown`. seed_demo refuses
# a hang that does not outlast it. 2 s is still ten times a sandbox answer on a busy laptop.
DEMO_READ_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class DemoContext:
    """What a seeder gets: where the gateway listens (the sandbox is under base_url + /sandbox/)."""

    base_url: str
    # Sandbox secrets generated on the first run and kept in .demo/credentials.json: no
    # credential is written in the repository, and seeding again reuses the same ones.
    known_secrets: dict[str, str] = field(default_factory=dict)
    # what every seeder gives its provider connections (below SANDBOX_HANG_SECONDS)
    read_timeout_seconds: float = DEMO_READ_TIMEOUT_SECONDS

    def secret(self, name: str) -> str:
        return self.known_secrets.setdefault(name, secrets.token_urlsafe(24))

    @property
    def sandbox_url(self) -> str:
        return self.base_url.rstrip("/") + "/sandbox/"

    def callback_url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/callbacks/" + path.lstrip("/")


Seeder = Callable[[DemoContext], dict[str, Any] | None]
_seeders: dict[str, Seeder] = {}


def register_seeder(name: str) -> Callable[[Seeder], Seeder]:
    def decorator(fn: Seeder) -> Seeder:
        _seeders[name] = fn
        return fn

    return decorator


def run_seeders(context: DemoContext) -> dict[str, Any]:
    """Run every registered seeder; returns what each wants shown in the credentials file."""
    autodiscover_modules("demo")
    return {name: fn(context) for name, fn in sorted(_seeders.items())}
