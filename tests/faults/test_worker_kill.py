"""A Celery worker SIGKILLed in the middle of a bank-transfer batch's chunk (issue 17, item 3;
the mobile-money bulk cash-in has its own, tests/e2e/test_mobilemoney_worker.py): a new worker
and beat's poller finish the batch (it sends the chunk task of a batch without sign of life
again), and no credit is posted twice at the core."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count

from banking import selectors
from banking.models import TransferBatch
from banking.tasks import poll_unresolved
from ledger.models import Account, Transaction
from ledger.selectors import ledger_check
from sandbox.models import SimEffect
from tests.banking.builders import waemu_iban
from tests.banking.test_api_batches import FUNDED, Bank, bank_fixture, pain001
from tests.processes import celery_worker, start_celery_worker, stop, wait_until

__all__ = ["bank_fixture"]

pytestmark = pytest.mark.django_db(transaction=True)
ITEMS = 260  # two chunks (200, then 60)
QUEUES = "payments,bulk,callbacks"


def credits_posted_twice() -> int:
    counts = Counter(
        SimEffect.objects.filter(provider="core_banking", effect="credit").values_list("reference", flat=True)
    )
    return sum(1 for n in counts.values() if n > 1)


def credited(batch_id: str) -> int:
    return Transaction.objects.filter(batch_item__batch__public_id=batch_id, status="succeeded").count()


def test_a_worker_killed_mid_chunk_is_replaced_and_nothing_is_credited_twice(
    bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "no sign of life for 30 s" is the production wait before the poller takes a row or a batch
    # over; the in-process poller of this test waits 3 s (the rule is the same)
    monkeypatch.setattr(selectors, "STALE_PROCESSING", timedelta(seconds=3))
    payroll = [(f"KILL-{i:04d}", waemu_iban(f"0008{1000 + i:08d}"), 1_000) for i in range(1, ITEMS + 1)]
    body = pain001("03", [("PAYROLL", payroll)], msg_id="SAHEL-KILL-1")
    log = tmp_path / "worker.log"
    worker = start_celery_worker(log, queues=QUEUES, concurrency=1)
    try:
        status, _, batch = bank.client.post(
            "/api/v1/banking/transfer-batches", data=body, headers={"Content-Type": "application/xml"},
            idempotency_key="kill-batch",
        )  # fmt: skip
        assert status == 202, batch
        wait_until(lambda: credited(batch["id"]) >= 20, timeout=60, interval=0.05, message="never started crediting")
    finally:
        stop(worker, signal.SIGKILL)
    assert credited(batch["id"]) < ITEMS, "the worker was killed after the batch finished: nothing was tested"

    def finished() -> bool:
        poll_unresolved()  # beat's job, as beat would run it
        return TransferBatch.objects.get(public_id=batch["id"]).status == "completed"

    with celery_worker(log, queues=QUEUES, concurrency=1):
        wait_until(finished, timeout=120, interval=2.0, message="the batch was not finished after the kill")

    statuses = dict(
        Transaction.objects.filter(batch_item__batch__public_id=batch["id"])
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    assert statuses == {"succeeded": ITEMS}
    assert credits_posted_twice() == 0
    assert SimEffect.objects.filter(provider="core_banking", effect="credit").count() == ITEMS
    account = Account.objects.get(partner=bank.partner, mode="test", currency="XOF")
    assert (account.balance_minor, account.held_minor) == (FUNDED - ITEMS * 1_000, 0)
    assert ledger_check().is_ok
