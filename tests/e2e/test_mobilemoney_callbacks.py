"""Provider callbacks across real processes (issue 4): the simulators deliver their signed
callbacks through the sandbox's own task, our endpoint stores and verifies them, and the
``mobilemoney.callback_apply`` task on the callbacks queue of a real worker applies them once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.models import Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import CheckoutSession, InboundCallback
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner, outbox_types
from tests.processes import celery_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

QUEUES = "payments,bulk,callbacks,maintenance"  # maintenance: the sandbox's callback delivery


@pytest.fixture
def side(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    connect_providers(live_server.url)
    return make_partner(live_server.url)


@pytest.mark.parametrize("provider", ["wave", "orange_money"])
def test_paid_checkout_session_is_credited_by_the_applied_callback(side, tmp_path: Path, provider) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    with celery_worker(tmp_path / "worker.log", queues=QUEUES, concurrency=2):
        body = {
            "provider": provider,
            "amount": "2500",
            "currency": "XOF",
            "client_reference": "order-77",
            "success_url": "https://shop.example/ok",
            "error_url": "https://shop.example/ko",
        }
        created = side.client.post("/api/v1/mobile-money/checkout-sessions", json=body, idempotency_key="cos")
        assert created.status == 201, created.body
        paid = side.client.post(
            f"/api/v1/test-helpers/checkout-sessions/{created.body['id']}/pay", json={"payer_msisdn": "+221770004321"}
        )
        assert paid.status == 200, paid.body
        session = CheckoutSession.objects.get(public_id=created.body["id"])
        wait_until(
            lambda: Transaction.objects.get(pk=session.transaction_id).status == "succeeded",
            timeout=30,
            message="the callback was not applied",
        )
    assert InboundCallback.objects.exclude(delivery=None).get().status == "applied"
    assert side.money() == (balance + 2500, held)
    txn = Transaction.objects.get(pk=session.transaction_id)
    assert [(e.to_status, e.cause) for e in txn.events.order_by("pk")][-1] == ("succeeded", "callback")
    assert outbox_types(txn)[-1] == "transaction.succeeded"
    assert ledger_check().is_ok


def test_late_duplicate_cash_in_notifications_post_once(side, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    with celery_worker(tmp_path / "worker.log", queues=QUEUES, concurrency=2):
        answer = side.client.post(
            "/api/v1/mobile-money/cash-ins", json=cash_in_body("orange_money", "9905"), idempotency_key="late"
        )
        reference = answer.body["id"]
        deliveries = InboundCallback.objects.filter(provider="orange_money", delivery=None)
        wait_until(lambda: deliveries.count() == 2, timeout=30, message="the two late notifications never came")
        wait_until(
            lambda: InboundCallback.objects.filter(status="applied", transaction_public_id=reference).exists(),
            timeout=15,
            message="the notification was not applied",
        )
    txn = Transaction.objects.get(public_id=reference)
    assert txn.status == "succeeded" and txn.events.filter(to_status="succeeded").count() == 1
    assert InboundCallback.objects.exclude(delivery=None).count() == 1  # one event, two deliveries
    assert side.money() == (balance - 1500, held)
    assert ledger_check().is_ok
