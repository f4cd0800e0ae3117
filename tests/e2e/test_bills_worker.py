"""Bills end to end: signed HTTP requests, a REAL Celery worker subprocess executing the payments,
and the beat-driven poller task resolving a lost answer through a status query (issue 5)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.signals import request_started
from django.utils import timezone

from ledger.selectors import ledger_check
from payments.models import BillPayment
from payments.tasks import poll_bill_payments_task
from tests.payments.test_api_bills import Bills, bills_setup, paid
from tests.processes import celery_worker, start_celery_worker, stop, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bills(live_server: Any, settings: Any) -> Iterator[Bills]:
    settings.SANDBOX_HANG_SECONDS = 2.0  # the sandbox runs in live_server, in this process
    setup = bills_setup(live_server, read_timeout=1.5)

    def record(sender: Any, environ: dict[str, Any] | None = None, **_: Any) -> None:
        path = (environ or {}).get("PATH_INFO", "")
        if (environ or {}).get("REQUEST_METHOD") == "GET" and path.startswith("/sandbox/niirpay/v1/payments/"):
            setup.status_queries.append(path.rsplit("/", 1)[-1])

    request_started.connect(record, weak=False)
    yield setup
    request_started.disconnect(record)


def _status(bills: Bills, payment_id: str) -> str:
    return str(bills.get_payment(payment_id)["transaction"]["status"])


def test_payments_run_in_a_worker_and_the_poller_resolves_a_lost_answer(bills: Bills, tmp_path: Path) -> None:
    balance, held, _ = bills.money()
    woyofal = bills.quote("WOYOFAL", "14212345678", amount="5000")
    senelec = bills.quote("SENELEC", "012345679902")  # 9902: paid, but the answer is lost

    with celery_worker(tmp_path / "worker.log", queues="payments", env={"SANDBOX_HANG_SECONDS": "2"}):
        waited = bills.client.post(
            "/api/v1/bills/payments",
            json={"quote_id": woyofal["id"]},
            idempotency_key="w-1",
            headers={"Prefer": "wait=20"},
        )
        prepaid = waited.body
        assert waited.status == 202 and waited.headers["Preference-Applied"] == "wait=20"
        assert prepaid["status"] == "succeeded" and len(prepaid["receipt"]["tokens"]) == 3  # settled while waiting
        _, _, lost = bills.pay(senelec["id"])
        wait_until(lambda: _status(bills, lost["id"]) == "unknown", timeout=30, message="9902 not unknown")
        assert bills.status_queries == []  # nothing asked yet: unknown is not guessed

        # beat's job, invoked here: enqueue a status query as soon as the backed-off poll is due
        wait_until(lambda: poll_bill_payments_task() >= 1, timeout=15, interval=0.5, message="no poll due")
        wait_until(lambda: _status(bills, lost["id"]) == "succeeded", timeout=30, message="9902 not resolved")

    receipt = bills.get_payment(prepaid["id"])["receipt"]
    assert len(receipt["tokens"]) == 3 and receipt["kwh"] == "54.84"
    reference = lost["transaction"]["id"]
    assert bills.status_queries == [reference]
    _, _, txn = bills.client.get(f"/api/v1/transactions/{reference}")
    assert [(e["to_status"], e["cause"]) for e in txn["events"]] == [
        ("pending", "api"),
        ("processing", "worker"),
        ("unknown", "worker"),
        ("succeeded", "poller"),
    ]
    assert txn["events"][-1]["detail"]["source"] == "payment_status"
    assert paid(reference) == 1 and paid(prepaid["transaction"]["id"]) == 1
    total = int(woyofal["total"]) + int(senelec["total"])
    assert bills.money()[:2] == (balance - total, held)
    assert ledger_check().is_ok


def test_a_worker_killed_during_the_payment_is_recovered_by_the_poller(bills: Bills, tmp_path: Path) -> None:
    balance, held, _ = bills.money()
    quote = bills.quote("SENEAU", "1234569902")  # 9902: the sandbox pays, then stalls its answer
    log = tmp_path / "worker.log"

    worker = start_celery_worker(log, queues="payments", env={"SANDBOX_HANG_SECONDS": "2"})
    try:
        _, _, accepted = bills.pay(quote["id"])
        reference = accepted["transaction"]["id"]
        wait_until(lambda: paid(reference) == 1, timeout=30, interval=0.05, message="the payment never reached Niirpay")
    finally:
        stop(worker, signal.SIGKILL)  # the worker dies while waiting for the answer

    assert _status(bills, accepted["id"]) == "processing"  # claimed, answer never read: no guess
    assert bills.money()[:2] == (balance, held + int(quote["total"]))
    BillPayment.objects.filter(public_id=accepted["id"]).update(next_poll_at=timezone.now())  # stale by now

    with celery_worker(log, queues="payments"):
        wait_until(lambda: poll_bill_payments_task() >= 1, timeout=15, interval=0.5, message="no poll due")
        wait_until(lambda: _status(bills, accepted["id"]) == "succeeded", timeout=30, message="not recovered")

    assert bills.status_queries == [reference] and paid(reference) == 1
    _, _, txn = bills.client.get(f"/api/v1/transactions/{reference}")
    assert [(e["to_status"], e["cause"]) for e in txn["events"]][-1] == ("succeeded", "poller")
    assert bills.money()[:2] == (balance - int(quote["total"]), held)
    assert ledger_check().is_ok
