"""create_partner and rotate_partner_secret: output shapes, and the printed credentials work."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from clients.python.addon_partner_client import AddonPartnerClient
from partners.models import ALL_SCOPES, Partner
from tests.partners.conftest import WHOAMI

pytestmark = [pytest.mark.urls("tests.partners.urls"), pytest.mark.django_db(transaction=True)]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_partner_json_output_and_the_printed_key_authenticates(live_server) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(run("create_partner", "--name", "Acme Pay", "--mode", "test", "--scopes", "all", "--json"))
    assert set(data) == {"partner_id", "api_key", "signing_secret", "mode", "scopes"}
    assert data["partner_id"].startswith("ptn_")
    assert data["api_key"].startswith("ak_test_") and data["signing_secret"].startswith("ss_test_")
    assert data["mode"] == "test"
    assert data["scopes"] == sorted(ALL_SCOPES)
    assert Partner.objects.get(public_id=data["partner_id"]).code == "acme-pay"

    client = AddonPartnerClient(live_server.url, data["api_key"], data["signing_secret"], timeout=10)
    assert client.get(WHOAMI).body["partner"] == data["partner_id"]
    assert client.post(WHOAMI, json={"hello": "world"}).status == 201


def test_create_partner_text_output_and_options() -> None:
    out = run(
        "create_partner", "--name", "Acme Pay", "--mode", "live", "--scopes", "bills.pay,transactions.read",
        "--webhook-url", "https://93.184.215.14/hook", "--ip-allowlist", "203.0.113.0/24", "--rate-limit", "120",
    )  # fmt: skip
    partner = Partner.objects.get(code="acme-pay")
    assert partner.public_id in out and "ak_live_" in out and "ss_live_" in out
    assert (partner.scopes, partner.ip_allowlist, partner.rate_limit_per_minute) == (
        ["bills.pay", "transactions.read"],
        ["203.0.113.0/24"],
        120,
    )
    second = json.loads(run("create_partner", "--name", "Acme Pay", "--mode", "test", "--scopes", "all", "--json"))
    assert Partner.objects.get(public_id=second["partner_id"]).code == "acme-pay-2"


@pytest.mark.parametrize(
    "args",
    [
        ["--scopes", "bills.pay,root"],
        ["--scopes", "all", "--webhook-url", "https://10.0.0.1/h"],
    ],
)
def test_create_partner_refusals(args: list[str]) -> None:
    with pytest.raises(CommandError):
        run("create_partner", "--name", "Bad", "--mode", "live", *args)
    assert not Partner.objects.exists()


def test_rotate_partner_secret_then_finish(live_server) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(run("create_partner", "--name", "Rotor", "--mode", "test", "--scopes", "all", "--json"))
    rotated = json.loads(run("rotate_partner_secret", "--partner", "rotor", "--mode", "test", "--json"))
    assert set(rotated) == {"partner_id", "mode", "signing_secret", "active_secrets"}
    assert (rotated["partner_id"], rotated["active_secrets"]) == (created["partner_id"], 2)
    old = AddonPartnerClient(live_server.url, created["api_key"], created["signing_secret"], timeout=10)
    new = AddonPartnerClient(live_server.url, created["api_key"], rotated["signing_secret"], timeout=10)
    assert old.post(WHOAMI, json={"k": "old"}).status == 201
    assert new.post(WHOAMI, json={"k": "new"}).status == 201

    finished = json.loads(
        run("rotate_partner_secret", "--partner", created["partner_id"], "--mode", "test", "--finish", "--json")
    )
    assert (finished["revoked"], finished["active_secrets"]) == (1, 1)
    assert old.post(WHOAMI, json={"k": "old2"}).body["code"] == "invalid_signature"
    assert new.post(WHOAMI, json={"k": "new2"}).status == 201


def test_rotate_unknown_partner() -> None:
    with pytest.raises(CommandError, match="No partner"):
        run("rotate_partner_secret", "--partner", "ghost", "--mode", "test")


def test_seed_demo_creates_a_working_test_partner_once(live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "demo" / "credentials.json"
    run("seed_demo", "--credentials-file", str(path))
    first = json.loads(path.read_text())["partner"]
    assert set(first) == {"partner_id", "api_key", "signing_secret", "mode", "scopes"}
    assert (first["mode"], first["scopes"]) == ("test", sorted(ALL_SCOPES))
    client = AddonPartnerClient(live_server.url, first["api_key"], first["signing_secret"], timeout=10)
    assert client.post(WHOAMI, json={"demo": 1}).status == 201

    run("seed_demo", "--credentials-file", str(path))
    assert json.loads(path.read_text())["partner"] == first  # kept as it was
    assert Partner.objects.filter(code="demo-partner").count() == 1

    lost = json.loads(path.read_text())
    lost["partner"] = {}
    path.write_text(json.dumps(lost))
    run("seed_demo", "--credentials-file", str(path))
    renewed = json.loads(path.read_text())["partner"]
    assert renewed["partner_id"] == first["partner_id"] and renewed["api_key"] != first["api_key"]
    client = AddonPartnerClient(live_server.url, renewed["api_key"], renewed["signing_secret"], timeout=10)
    assert client.post(WHOAMI, json={"demo": 2}).status == 201
