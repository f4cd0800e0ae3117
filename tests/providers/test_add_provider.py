"""Issue 15, item 1: a provider of a known kind is data. ``manage.py add_provider`` puts Wave Côte
d'Ivoire (``wave_ci``) on the Wave connector, pointed at the Wave simulator, and without any
code change it takes a cash-in, a 100-item batch, a checkout session paid by the test helper and
its signed callback, under its own code in the transactions, the balances, the metrics and the
reports; disabled, then removed, it refuses new work with a clear 422 and its history stays
readable."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from prometheus_client import REGISTRY

from ledger.models import Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import CashIn, CashInBatch, CheckoutSession, InboundCallback
from mobilemoney.services.callbacks import callback_apply
from mobilemoney.services.cash_ins import cash_in_process
from partners.models import ProviderConnection
from partners.providers import provider_enable, provider_remove
from reporting.selectors import daily_summary_rows
from sandbox.models import SimCallback, SimEffect
from tests.mobilemoney.api_support import cash_in_body, make_partner
from tests.mobilemoney.test_api_batches import run_chunks

pytestmark = pytest.mark.django_db(transaction=True)

CODE = "wave_ci"
CASH_INS = "/api/v1/mobile-money/cash-ins"


def add_wave_ci(gateway_url: str) -> None:
    call_command(
        "add_provider",
        *("--code", CODE, "--name", "Wave Côte d'Ivoire", "--rail", "mobile_money", "--connector", "wave"),
        *("--mode", "test", "--sandbox", "--gateway-url", gateway_url),
    )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_provider_added_as_data_is_usable_everywhere_then_refuses_new_work_when_disabled(live_server) -> None:  # type: ignore[no-untyped-def]
    add_wave_ci(live_server.url)
    connection = ProviderConnection.objects.get(provider_code=CODE)
    assert (connection.connector, connection.mode, connection.currency) == ("wave", "test", "XOF")
    assert connection.base_url == live_server.url + "/sandbox/wave/"
    side = make_partner(live_server.url)
    succeeded_before = metric("addon_transactions_total", kind="cash_in", provider=CODE, status="succeeded")
    received_before = metric("addon_callbacks_total", provider=CODE, outcome="received")

    # a cash-in
    status, _, answer = side.client.post(CASH_INS, json=cash_in_body(CODE), idempotency_key="ci-1")
    assert status == 202, answer
    assert answer["provider"] == CODE
    cash_in_process(CashIn.objects.get(transaction__public_id=answer["id"]).pk)
    txn = Transaction.objects.get(public_id=answer["id"])
    assert (txn.status, txn.provider) == ("succeeded", CODE)
    assert SimEffect.objects.filter(provider="wave", effect="payout", reference=txn.public_id).count() == 1

    # a 100-item batch, through Wave's batch API
    items = [cash_in_body(CODE, suffix=f"{1000 + i}", client_reference=f"b-{i}") for i in range(100)]
    for item in items:
        item.pop("provider")
    status, _, batch = side.client.post(
        "/api/v1/mobile-money/cash-in-batches", json={"provider": CODE, "items": items}, idempotency_key="b-1"
    )
    assert status == 202, batch
    run_chunks(CashInBatch.objects.get(public_id=batch["id"]))
    done = Transaction.objects.filter(provider=CODE, kind="cash_in", status="succeeded")
    assert done.count() == 101
    assert CashInBatch.objects.get(public_id=batch["id"]).provider == CODE

    # a checkout session paid by the test helper, and the provider's signed callback
    status, _, session = side.client.post(
        "/api/v1/mobile-money/checkout-sessions",
        json={
            "provider": CODE,
            "amount": "2500",
            "currency": "XOF",
            "client_reference": "cart-ci",
            "success_url": "https://partner.example/ok",
            "error_url": "https://partner.example/ko",
        },
        idempotency_key="co-1",
    )
    assert status == 201, session
    paid = side.client.post(
        f"/api/v1/test-helpers/checkout-sessions/{session['id']}/pay", json={"payer_msisdn": "+221770001234"}
    )
    assert paid.status == 200, paid.body
    (callback,) = SimCallback.objects.filter(provider="wave")
    assert callback.url == f"{live_server.url}/callbacks/{CODE}"
    assert post(callback.url, bytes(callback.body), dict(callback.headers)) == 200
    assert post(callback.url, bytes(callback.body), {"Content-Type": "application/json"}) == 401  # unsigned
    callback_apply(list(InboundCallback.objects.values_list("pk", flat=True)))
    checkout = CheckoutSession.objects.select_related("transaction").get(public_id=session["id"])
    assert (checkout.status, checkout.transaction.status, checkout.transaction.provider) == (
        "complete",
        "succeeded",
        CODE,
    )

    # its balances, metrics and reports
    status, _, balances = side.client.get("/api/v1/balances")
    floats = {item["provider"]: item for item in balances["provider_floats"]}
    assert floats[CODE]["available"] is True and floats[CODE]["currency"] == "XOF"
    assert metric("addon_transactions_total", kind="cash_in", provider=CODE, status="succeeded") == (
        succeeded_before + 101
    )
    assert metric("addon_callbacks_total", provider=CODE, outcome="received") == received_before + 2
    report = {row[2]: row for row in daily_summary_rows(day=timezone.localdate(), mode="test") if row[1] == CODE}
    assert report["*"][4] == 102  # its 101 cash-ins and its collection, under its own code
    assert ledger_check().is_ok

    # disabled, then removed: new work refused with a clear 422, nothing created; history readable
    for attempt, stop in enumerate(
        (lambda: provider_enable(provider=CODE, enabled=False), lambda: provider_remove(provider=CODE))
    ):
        stop()
        count, money = Transaction.objects.count(), side.money()
        status, _, problem = side.client.post(
            CASH_INS, json=cash_in_body(CODE, client_reference=f"late-{attempt}"), idempotency_key=f"late-{attempt}"
        )
        assert (status, problem["code"]) == (422, "provider_disabled"), problem
        assert (Transaction.objects.count(), side.money()) == (count, money)
        status, _, old = side.client.get(f"/api/v1/mobile-money/cash-ins/{txn.public_id}")
        assert (status, old["provider"], old["status"]) == (200, CODE, "succeeded")


@pytest.mark.parametrize(
    "args",
    [
        ["--connector", "niirpay"],  # another rail's connector
        ["--connector", "nope"],  # not registered
        ["--code", "Wave CI"],  # not a code
        ["--mode", "live"],  # --sandbox is for test mode only
    ],
)
def test_add_provider_refuses_what_could_not_work_and_writes_nothing(live_server, args) -> None:  # type: ignore[no-untyped-def]
    base = {"--code": CODE, "--name": "X", "--rail": "mobile_money", "--connector": "wave", "--mode": "test"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError):
        call_command("add_provider", *[part for pair in base.items() for part in pair], "--sandbox")
    assert not ProviderConnection.objects.exists()
