"""Mobile money across real processes (issue 4): a Celery worker subprocess on the payments, bulk
and callbacks queues works what the API accepted over HTTP; beat's jobs (the cash-in poller, the
bulk sweeper) are invoked from the test on their schedule. A 2,000-item mixed batch completes
with exact counts and totals; a worker killed with SIGKILL mid-batch is replaced and the batch
completes without a single double payout; a provider that hangs leaves the cash-in unknown
until the poller resolves it, never failed."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import Count

from ledger.models import Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import BatchChunk, CashIn, CashInBatch
from mobilemoney.tasks import bulk_sweep, poll_cash_ins
from sandbox.models import SimEffect
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner
from tests.processes import celery_worker, start_celery_worker, stop, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

QUEUES = "payments,bulk,callbacks"
SUFFIXES = ["1234", "9901", "1235", "9904", "9905", "1236", "1237", "1238"]


@pytest.fixture
def side(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    connect_providers(live_server.url)
    return make_partner(live_server.url)


def batch_items(size: int) -> list[dict[str, str]]:
    return [
        {
            "msisdn": f"+22177{i % 1000:03d}{SUFFIXES[i % len(SUFFIXES)]}",
            "amount": str(100 + i % 50),
            "currency": "XOF",
            "client_reference": f"salary-{i}",
        }
        for i in range(size)
    ]


def expected(items: list[dict[str, str]]) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = {"succeeded": [0, 0], "failed": [0, 0]}
    for item in items:
        status = "failed" if item["msisdn"][-4:] in ("9901", "9904") else "succeeded"
        totals[status][0] += 1
        totals[status][1] += int(item["amount"])
    return {status: (count, amount) for status, (count, amount) in totals.items()}


def beat_until(done, timeout: float, message: str) -> None:  # type: ignore[no-untyped-def]
    """Run beat's mobile-money jobs every 2 s (in the test, as beat would) until ``done()``."""

    def tick() -> bool:
        bulk_sweep()
        poll_cash_ins()
        return bool(done())

    wait_until(tick, timeout=timeout, interval=2.0, message=message)


def batch_done(public_id: str) -> bool:
    return CashInBatch.objects.filter(public_id=public_id, status="completed").exists()


def paid_twice() -> int:
    counts = Counter(SimEffect.objects.filter(provider="wave", effect="payout").values_list("reference", flat=True))
    return sum(1 for n in counts.values() if n > 1)


def test_two_thousand_item_mixed_batch_completes_with_exact_counts(side, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = batch_items(2000)
    balance, held = side.money()
    with celery_worker(tmp_path / "worker.log", queues=QUEUES, concurrency=2):
        started = time.monotonic()
        answer = side.client.post(
            "/api/v1/mobile-money/cash-in-batches", json={"provider": "wave", "items": items}, idempotency_key="2k"
        )
        assert answer.status == 202, answer.body
        beat_until(lambda: batch_done(answer.body["id"]), timeout=150, message="the batch did not complete")
        elapsed = time.monotonic() - started
    print(f"2,000-item Wave batch completed in {elapsed:.1f} s")
    _, _, body = side.client.get(f"/api/v1/mobile-money/cash-in-batches/{answer.body['id']}")
    want = expected(items)
    for status, (count, amount) in want.items():
        assert body["progress"][status] == {"count": count, "amount": str(amount)}
    assert sum(v["count"] for v in body["progress"].values()) == 2000
    assert SimEffect.objects.filter(provider="wave", effect="payout").count() == want["succeeded"][0]
    assert paid_twice() == 0
    assert side.money() == (balance - want["succeeded"][1], held)
    assert ledger_check().is_ok


def test_worker_killed_mid_batch_is_replaced_and_nothing_is_paid_twice(side, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = batch_items(1000)
    balance, held = side.money()
    log = tmp_path / "worker.log"
    worker = start_celery_worker(log, queues=QUEUES, concurrency=2)
    try:
        answer = side.client.post(
            "/api/v1/mobile-money/cash-in-batches", json={"provider": "wave", "items": items}, idempotency_key="kill"
        )
        batch = answer.body["id"]

        def paying_mid_chunk() -> bool:
            # paying, with a chunk submitted to Wave and not done: its worker holds its lease.
            # (Waiting for a count of paid items instead, a worker applying a whole answer per
            # commit could finish the chunks it had started first, and no chunk would need a re-drive.)
            return (
                Transaction.objects.filter(cash_in__batch__public_id=batch, status="succeeded").exists()
                and BatchChunk.objects.filter(batch__public_id=batch, status="submitted").exists()
            )

        wait_until(paying_mid_chunk, timeout=60, interval=0.05, message="the batch never started paying")
    finally:
        stop(worker, signal.SIGKILL)
    in_flight = Transaction.objects.filter(cash_in__batch__public_id=batch, status__in=["pending", "processing"])
    assert in_flight.exists(), "the worker was killed after the batch finished: nothing was tested"
    with celery_worker(log, queues=QUEUES, concurrency=2):
        beat_until(lambda: batch_done(batch), timeout=120, message="the batch was not recovered")
    want = expected(items)
    statuses = dict(
        Transaction.objects.filter(cash_in__batch__public_id=batch)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    assert statuses == {"succeeded": want["succeeded"][0], "failed": want["failed"][0]}
    assert paid_twice() == 0
    assert SimEffect.objects.filter(provider="wave", effect="payout").count() == want["succeeded"][0]
    assert BatchChunk.objects.filter(batch__public_id=batch, attempts__gt=1).exists()  # really re-driven
    assert side.money() == (balance - want["succeeded"][1], held)
    assert ledger_check().is_ok


@pytest.mark.parametrize("provider", ["wave", "orange_money"])
def test_provider_hang_is_unknown_then_resolved_by_the_poller_never_failed(side, tmp_path: Path, provider) -> None:  # type: ignore[no-untyped-def]
    # Without the callbacks queue: Orange Money's own SUCCESS notification would otherwise settle
    # the cash-in before the poller is needed (tests/e2e/test_mobilemoney_callbacks.py covers it).
    with celery_worker(tmp_path / "worker.log", queues="payments,bulk", concurrency=2):
        answer = side.client.post(
            "/api/v1/mobile-money/cash-ins", json=cash_in_body(provider, "9902"), idempotency_key="hang"
        )
        reference = answer.body["id"]

        def status() -> str:
            return str(Transaction.objects.get(public_id=reference).status)

        wait_until(lambda: status() == "unknown", timeout=30, interval=0.1, message="never unknown")
        beat_until(lambda: status() == "succeeded", timeout=60, message="the poller did not resolve it")
    txn = Transaction.objects.get(public_id=reference)
    assert [e.to_status for e in txn.events.order_by("pk")] == ["pending", "processing", "unknown", "succeeded"]
    assert txn.events.order_by("pk").last().cause == "poller"  # type: ignore[union-attr]
    assert CashIn.objects.get(transaction=txn).next_poll_at is None
    assert ledger_check().is_ok
