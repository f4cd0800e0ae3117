"""A client reference names one money movement: the same reference under a new Idempotency-Key is
refused with 409 ``duplicate_client_reference`` naming the first transaction, single or in a
batch, and no money moves; once the first one failed (it moved nothing) the reference is free."""

from __future__ import annotations

import pytest

from ledger.models import Hold, Transaction
from mobilemoney.models import CashIn, CashInBatch
from mobilemoney.services.cash_ins import cash_in_process
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner

pytestmark = pytest.mark.django_db(transaction=True)

CASH_INS = "/api/v1/mobile-money/cash-ins"
BATCHES = "/api/v1/mobile-money/cash-in-batches"


@pytest.fixture
def side(live_server):  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    return make_partner(live_server.url)


def test_a_second_cash_in_with_the_same_client_reference_is_409_and_moves_nothing(side) -> None:  # type: ignore[no-untyped-def]
    body = cash_in_body("wave", client_reference="order-77")
    status, _, first = side.client.post(CASH_INS, json=body, idempotency_key="k-1")
    assert status == 202
    money = side.money()
    status, _, again = side.client.post(CASH_INS, json={**body, "amount": "900"}, idempotency_key="k-2")
    assert (status, again["code"], again["transaction_id"]) == (409, "duplicate_client_reference", first["id"])
    assert side.money() == money
    assert Transaction.objects.count() == CashIn.objects.count() == Hold.objects.count() == 1


def test_a_batch_reusing_a_client_reference_is_409_and_creates_nothing(side) -> None:  # type: ignore[no-untyped-def]
    status, _, first = side.client.post(
        CASH_INS, json=cash_in_body("wave", client_reference="pay-2"), idempotency_key="k"
    )
    assert status == 202
    money = side.money()
    items = [
        {"msisdn": f"+22177000{n:04d}", "amount": "100", "currency": "XOF", "client_reference": f"pay-{n}"}
        for n in range(1, 41)
    ]
    status, _, answer = side.client.post(BATCHES, json={"provider": "wave", "items": items}, idempotency_key="b-1")
    assert (status, answer["code"], answer["transaction_id"]) == (409, "duplicate_client_reference", first["id"])
    assert answer["client_reference"] == "pay-2"
    assert side.money() == money
    assert CashInBatch.objects.count() == 0 and Transaction.objects.count() == 1


def test_the_reference_of_a_failed_cash_in_may_be_used_again(side) -> None:  # type: ignore[no-untyped-def]
    body = cash_in_body("wave", suffix="9901", client_reference="order-9")
    status, _, first = side.client.post(CASH_INS, json=body, idempotency_key="k-1")
    cash_in_process(CashIn.objects.get(transaction__public_id=first["id"]).pk)
    assert Transaction.objects.get(public_id=first["id"]).status == "failed"
    status, _, second = side.client.post(
        CASH_INS, json=cash_in_body("wave", client_reference="order-9"), idempotency_key="k-2"
    )
    assert status == 202 and second["id"] != first["id"]
