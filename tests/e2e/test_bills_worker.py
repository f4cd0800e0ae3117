"""Bills end to end: signed HTTP requests, a REAL Celery worker subprocess executing the payments,
and the beat-driven poller task resolving a lost answer through a status query (issue 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.signals import request_started

from ledger.selectors import ledger_check
from payments.tasks import poll_bill_payments_task
from tests.payments.test_api_bills import Bills, bills_setup, paid
from tests.processes import celery_worker, wait_until

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
        _, _, prepaid = bills.pay(woyofal["id"])
        _, _, lost = bills.pay(senelec["id"])
        wait_until(lambda: _status(bills, prepaid["id"]) == "succeeded", timeout=30, message="woyofal not paid")
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
