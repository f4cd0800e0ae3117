"""A live partner, onboarded through the services and the commands, funded by an approved
top-up, pays a live cash-in through the live provider connection (pointed at the sandbox over
real HTTP, processed by the rail's task code in-process); before the top-up it gets
``insufficient_funds`` and nothing moves."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from approvals.models import ApprovalRequest
from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import Account, ProviderCall, Transaction
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_process
from partners.models import ALL_SCOPES, Partner
from partners.services import partner_create, provider_connection_upsert
from sandbox.models import SimEffect
from sandbox.wave.accounts import wave_account_register, wave_connector_credentials
from tests.mobilemoney.api_support import cash_in_body

pytestmark = pytest.mark.django_db(transaction=True)


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_live_partner_funded_by_an_approved_top_up_pays_through_the_live_connection(
    live_server, maker, checker
) -> None:  # type: ignore[no-untyped-def]
    account = wave_account_register(callback_url=f"{live_server.url}/callbacks/wave")
    wave = partner_create(name="Wave", code="wave", mode="test", scopes=[]).partner
    provider_connection_upsert(
        partner=wave, mode="live", connector="wave", base_url=f"{live_server.url}/sandbox/wave/",
        credentials=wave_connector_credentials(account), connect_timeout_seconds=2, read_timeout_seconds=2,
    )  # fmt: skip
    command("create_partner", "--name", "Live Shop", "--mode", "test", "--scopes", "all")
    shop = Partner.objects.get(code="live-shop")
    live = json.loads(command("issue_credentials", "--partner", "live-shop", "--mode", "live", "--json"))
    assert live["api_key"].startswith("ak_live_") and live["signing_secret"].startswith("ss_live_")
    client = AddonPartnerClient(live_server.url, live["api_key"], live["signing_secret"])
    assert sorted(shop.scopes) == sorted(ALL_SCOPES)

    refused = client.post("/api/v1/mobile-money/cash-ins", json=cash_in_body("wave"), idempotency_key="k-1")
    assert (refused.status, refused.body["code"]) == (422, "insufficient_funds")
    assert Transaction.objects.count() == 0 and SimEffect.objects.count() == 0

    asked = command(
        "four_eyes", "request", "top_up", "live-shop", "--as", maker.username, "--reason", "wire received",
        "--set", "amount=10000", "--set", "mode=live",
    )  # fmt: skip
    approval = ApprovalRequest.objects.get()
    assert f"request #{approval.pk} pending" in asked
    assert "executed" in command("four_eyes", "approve", str(approval.pk), "--as", checker.username)
    assert Account.objects.get(partner=shop, mode="live").balance_minor == 10_000

    body = cash_in_body("wave", client_reference="order-live-1")
    accepted = client.post("/api/v1/mobile-money/cash-ins", json=body, idempotency_key="k-2")
    assert accepted.status == 202 and accepted.body["status"] == "pending"
    cash_in = CashIn.objects.select_related("transaction").get(transaction__public_id=accepted.body["id"])
    cash_in_process(cash_in.pk)
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert (txn.mode, txn.status) == ("live", "succeeded")
    assert SimEffect.objects.filter(provider="wave", effect="payout", reference=txn.public_id).count() == 1
    call = ProviderCall.objects.filter(transaction=txn).first()
    assert call is not None and call.mode == "live"  # the live connection's settings were used
    assert Account.objects.get(partner=shop, mode="live").balance_minor == 10_000 - 1_500
