"""POST/GET /api/v1/mobile-money/cash-ins over real HTTP, processed by the real task code
in-process against the sandbox: every outcome 9901-9905 for both providers, the money it moves
(hold captured or released), events, outbox rows, and bad input that creates nothing."""

from __future__ import annotations

import time

import pytest

from ledger.models import Hold, Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_process, cash_in_resolve
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner, outbox_types, paid_count

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDERS = ["wave", "orange_money"]


@pytest.fixture
def side(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    connect_providers(live_server.url)
    return make_partner(live_server.url)


def create(side, body, key="k-1"):  # type: ignore[no-untyped-def]
    status, _, answer = side.client.post("/api/v1/mobile-money/cash-ins", json=body, idempotency_key=key)
    assert status == 202, answer
    return CashIn.objects.select_related("transaction").get(transaction__public_id=answer["id"]), answer


def refreshed(cash_in: CashIn) -> Transaction:
    return Transaction.objects.get(pk=cash_in.transaction_id)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cash_in_succeeds_captures_the_hold_and_pays_once(side, provider) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    cash_in, answer = create(side, cash_in_body(provider, recipient_name="Awa Ndiaye"))
    assert answer["status"] == "pending" and answer["kind"] == "cash_in" and answer["amount"] == "1500"
    assert answer["cash_in"]["msisdn"] == "+221770001234"
    assert side.money() == (balance, held + 1500)

    cash_in_process(cash_in.pk)
    cash_in_process(cash_in.pk)  # a redelivered task finds the claim taken
    txn = refreshed(cash_in)
    assert txn.status == "succeeded" and txn.provider_reference
    assert side.money() == (balance - 1500, held)
    assert Hold.objects.get(transaction=txn).status == "captured"
    assert paid_count(provider, txn.public_id) == 1
    assert outbox_types(txn) == ["transaction.created", "transaction.processing", "transaction.succeeded"]
    assert ledger_check().is_ok

    status, _, body = side.client.get(f"/api/v1/mobile-money/cash-ins/{txn.public_id}")
    assert status == 200 and body["status"] == "succeeded"
    assert [e["to_status"] for e in body["events"]] == ["pending", "processing", "succeeded"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("suffix", "code"), [("9901", "provider_rejected"), ("9904", "provider_insufficient_funds")])
def test_refusals_fail_release_the_hold_and_pay_nothing(side, provider, suffix, code) -> None:  # type: ignore[no-untyped-def]
    before = side.money()
    cash_in, _ = create(side, cash_in_body(provider, suffix))
    cash_in_process(cash_in.pk)
    txn = refreshed(cash_in)
    assert (txn.status, txn.failure_code) == ("failed", code)
    assert side.money() == before
    assert Hold.objects.get(transaction=txn).status == "released"
    assert paid_count(provider, txn.public_id) == 0
    assert outbox_types(txn)[-1] == "transaction.failed"
    assert ledger_check().is_ok


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("suffix", ["9902", "9903"])
def test_lost_answers_are_unknown_never_failed_then_the_poller_resolves(side, provider, suffix) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    cash_in, _ = create(side, cash_in_body(provider, suffix))
    cash_in_process(cash_in.pk)
    txn = refreshed(cash_in)
    assert txn.status == "unknown"
    assert side.money() == (balance, held + 1500)  # still held: money may have moved

    cash_in_resolve(cash_in.pk)
    txn = refreshed(cash_in)
    assert txn.status == "succeeded"
    assert paid_count(provider, txn.public_id) == 1
    assert side.money() == (balance - 1500, held)
    causes = list(txn.events.order_by("pk").values_list("to_status", "cause"))
    assert causes == [
        ("pending", "api"), ("processing", "worker"), ("unknown", "worker"), ("succeeded", "poller"),
    ]  # fmt: skip
    assert ledger_check().is_ok


@pytest.mark.parametrize("provider", PROVIDERS)
def test_9905_succeeds(side, provider) -> None:  # type: ignore[no-untyped-def]
    cash_in, _ = create(side, cash_in_body(provider, "9905"))
    cash_in_process(cash_in.pk)
    assert refreshed(cash_in).status == "succeeded"
    assert paid_count(provider, cash_in.transaction.public_id) == 1


def test_idempotent_replay_creates_one_cash_in(side) -> None:  # type: ignore[no-untyped-def]
    body = cash_in_body("wave")
    t0 = int(time.time())
    first = side.client.request("POST", "/api/v1/mobile-money/cash-ins", json=body, idempotency_key="same", t=t0)
    second = side.client.request(
        "POST", "/api/v1/mobile-money/cash-ins", json=body, idempotency_key="same", t=t0 - 7
    )  # another signature time: the signature replay guard would refuse an identical one
    assert first.status == second.status == 202
    assert second.headers["Idempotent-Replayed"] == "true" and second.body == first.body
    assert CashIn.objects.count() == 1 and Transaction.objects.count() == 1


BAD_INPUT = [
    ({"msisdn": "771234567"}, 400, "msisdn"),
    ({"msisdn": "+22177abc"}, 400, "msisdn"),
    ({"amount": "10.5"}, 400, "amount"),
    ({"amount": "-100"}, 400, "amount"),
    ({"amount": "0"}, 400, "amount"),
    ({"amount": 1500}, 400, "amount"),
    ({"provider": "mtn"}, 400, "provider"),
    ({"currency": "EUR"}, 400, "currency"),
    ({"client_reference": ""}, 400, "client_reference"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_INPUT)
def test_bad_input_is_a_problem_and_creates_nothing(side, change, status, field) -> None:  # type: ignore[no-untyped-def]
    before = side.money()
    body = {**cash_in_body("wave"), **change}
    answer = side.client.post("/api/v1/mobile-money/cash-ins", json=body, idempotency_key="bad")
    assert answer.status == status and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["code"] == "validation_error"
    assert [e["field"] for e in answer.body["errors"]] == [field]
    assert (CashIn.objects.count(), Transaction.objects.count(), side.money()) == (0, 0, before)


def test_insufficient_funds_is_422_and_creates_nothing(side) -> None:  # type: ignore[no-untyped-def]
    answer = side.client.post(
        "/api/v1/mobile-money/cash-ins", json=cash_in_body("wave", amount="1000000001"), idempotency_key="big"
    )
    assert answer.status == 422 and answer.body["code"] == "insufficient_funds"
    assert (CashIn.objects.count(), Transaction.objects.count()) == (0, 0)


def test_scope_and_other_partners(side, live_server) -> None:  # type: ignore[no-untyped-def]
    reader = make_partner(live_server.url, "Reader", scopes=["transactions.read"])
    answer = reader.client.post("/api/v1/mobile-money/cash-ins", json=cash_in_body("wave"), idempotency_key="x")
    assert answer.status == 403 and CashIn.objects.count() == 0
    cash_in, _ = create(side, cash_in_body("wave"))
    other = make_partner(live_server.url, "Other", scopes=["mobile_money.cash_in"])
    assert other.client.get(f"/api/v1/mobile-money/cash-ins/{cash_in.transaction.public_id}").status == 404
