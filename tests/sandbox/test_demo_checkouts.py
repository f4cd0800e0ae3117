"""The demo of one checkout is its own (issue 16): its own settings file, and seed_demo never
changes a demo another checkout created; the seeded read timeouts let 9902 time out."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from clients.python.addon_partner_client import AddonPartnerClient
from config.env import REGISTRY as env_registry
from config.env import Env, default_source
from partners.models import Mode, ProviderConnection

pytestmark = pytest.mark.django_db(transaction=True)


def seed(path: Path, base_url: str) -> dict[str, Any]:
    call_command("seed_demo", "--credentials-file", str(path), "--base-url", base_url, stdout=io.StringIO())
    return dict(json.loads(path.read_text()))


def works(base_url: str, data: dict[str, Any]) -> bool:
    partner = data["partner"]
    client = AddonPartnerClient(base_url, partner["api_key"], partner["signing_secret"], timeout=10)
    staff = get_user_model().objects.get(username=data["staff"]["username"])
    return client.get("/api/v1/me").status == 200 and staff.check_password(data["staff"]["password"])


def test_seed_demo_leaves_another_checkouts_demo_alone(live_server: Any, tmp_path: Path) -> None:
    first = seed(tmp_path / "a" / "credentials.json", live_server.url)
    assert works(live_server.url, first)
    connections = sorted(ProviderConnection.objects.values_list("connector", "base_url", "updated_at"))

    other = tmp_path / "b" / "credentials.json"  # a second checkout pointed at the same database
    with pytest.raises(CommandError, match="another checkout"):
        seed(other, "http://127.0.0.1:1")
    assert not other.exists()
    assert works(live_server.url, first)  # no password reset, no key or secret rotated
    assert sorted(ProviderConnection.objects.values_list("connector", "base_url", "updated_at")) == connections

    again = seed(tmp_path / "a" / "credentials.json", live_server.url)  # its own checkout: kept as it was
    assert (again["owner"], again["partner"], again["staff"]) == (first["owner"], first["partner"], first["staff"])


def test_demo_connections_give_up_before_the_sandbox_stall_ends(live_server: Any, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path / "credentials.json", live_server.url)
    timeouts = dict(ProviderConnection.objects.filter(mode=Mode.TEST).values_list("connector", "read_timeout_seconds"))
    assert {"wave", "orange_money", "niirpay"} <= set(timeouts)
    assert all(timeout < settings.SANDBOX_HANG_SECONDS for timeout in timeouts.values()), timeouts

    settings.SANDBOX_HANG_SECONDS = 1.0  # would answer before the read timeout: refused, nothing changed
    with pytest.raises(CommandError, match="SANDBOX_HANG_SECONDS"):
        seed(tmp_path / "credentials.json", live_server.url)


def test_the_checkout_file_fills_in_development_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the names read here are not settings: keep them out of the documented registry (test_readme)
    monkeypatch.setattr("config.env.REGISTRY", dict(env_registry))
    checkout = tmp_path / "checkout.env"
    checkout.write_text("# this checkout\nDATABASE_URL=postgres://postgres@127.0.0.1:5432/addon_partner_x\n\n")
    dev = Env(default_source({"DJANGO_ENV": "development"}, checkout))
    assert dev.string("DATABASE_URL", "default", description="d").endswith("/addon_partner_x")
    own = Env(default_source({"DATABASE_URL": "postgres://h/mine"}, checkout))  # the environment wins
    assert own.string("DATABASE_URL", "default", description="d") == "postgres://h/mine"
    test = Env(default_source({"DJANGO_ENV": "test"}, checkout))
    assert test.string("DATABASE_URL", "default", description="d") == "default"
    assert Env(default_source({}, tmp_path / "absent.env")).string("X", "none", description="d") == "none"
