"""Fixtures of the partners tests: partners made through the real services, a signed client."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from partners.models import ALL_SCOPES, Mode
from partners.services import PartnerCreated, partner_create

WHOAMI = "/t/partner/whoami"


@pytest.fixture
def make_partner() -> Callable[..., PartnerCreated]:
    """``make_partner(name=…, mode=…, scopes=…, **partner_create kwargs)`` (needs a django_db mark)."""
    counter = iter(range(1, 10_000))

    def make(*, name: str | None = None, mode: str = Mode.TEST, scopes: Iterable[str] = ALL_SCOPES, **kwargs):  # type: ignore[no-untyped-def]
        return partner_create(name=name or f"Partner {next(counter)}", mode=mode, scopes=scopes, **kwargs)

    return make


def client_for(live_server, created: PartnerCreated, *, secret: str | None = None) -> AddonPartnerClient:  # type: ignore[no-untyped-def]
    return AddonPartnerClient(live_server.url, created.api_key, secret or created.signing_secret, timeout=10)
