"""How a Wave chunk is worked fast (docs/performance.md, P6) without giving up a guarantee: its
claims share one DB transaction, each item under its own savepoint; the provider batch's final
results are applied on several threads, in groups of one DB transaction each
(``results_apply_bulk``), a group that fails applied again one item at a time through
``result_apply``. Real sandbox over HTTP, chunks worked in-process by the task's code."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from ledger.models import Hold, ProviderCall, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from mobilemoney.models import BatchChunk, CashIn, CashInBatch
from mobilemoney.services import batch_work
from sandbox.models import SimEffect
from tests.mobilemoney.test_api_batches import PATH, item, run_chunks, side  # noqa: F401 - side is a fixture

pytestmark = pytest.mark.django_db(transaction=True)

SUFFIXES = ["1234", "9901", "1235", "9904", "1236", "9905"]  # 9901 and 9904 are refused by Wave


def post_batch(side: Any, size: int, key: str) -> CashInBatch:  # noqa: F811 - the fixture's value
    items = [item(i, SUFFIXES[i % len(SUFFIXES)], amount=str(1000 + i)) for i in range(size)]
    answer = side.client.post(PATH, json={"provider": "wave", "items": items}, idempotency_key=key)
    assert answer.status == 202, answer.body
    return CashInBatch.objects.get(public_id=answer.body["id"])


def spy(monkeypatch: pytest.MonkeyPatch, name: str, before: Callable[[CashIn], None]) -> None:
    """Run ``before(cash_in)`` ahead of the real ``batch_work.<name>`` (which still does the work)."""
    real = getattr(batch_work, name)

    def spied(cash_in: Any, *args: Any, **kwargs: Any) -> Any:
        before(cash_in)
        return real(cash_in, *args, **kwargs)

    monkeypatch.setattr(batch_work, name, spied)


def refused(i: int) -> bool:
    return SUFFIXES[i % len(SUFFIXES)] in ("9901", "9904")


def test_results_applied_on_several_threads_move_each_item_once_and_close_connections(
    side: Any,  # noqa: F811 - the fixture
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.MOBILEMONEY_BULK_APPLY_THREADS = 4
    monkeypatch.setattr(batch_work, "APPLY_GROUP", 5)  # an answer of 20 results: four groups
    size = 60
    balance, held = side.money()
    seen: dict[int, Any] = {}  # thread id -> the Django connection it used
    spy(
        monkeypatch,
        "results_apply_bulk",
        lambda _: seen.setdefault(threading.get_ident(), connections[DEFAULT_DB_ALIAS]),
    )

    batch = post_batch(side, size, "threads")
    run_chunks(batch)

    assert len(seen) > 1 and threading.get_ident() not in seen  # pool threads did the work
    assert all(used.connection is None for used in seen.values())  # each closed its DB connection
    ok = [1000 + i for i in range(size) if not refused(i)]
    txns = Transaction.objects.filter(cash_in__batch=batch)
    assert sorted(set(txns.values_list("status", flat=True))) == ["failed", "succeeded"]
    assert txns.filter(status="succeeded").count() == len(ok)
    for txn in txns:  # one terminal event each: nothing applied twice by two threads
        terminal = TransactionEvent.objects.filter(transaction=txn, to_status__in=("succeeded", "failed"))
        assert terminal.count() == 1
    assert set(Hold.objects.filter(transaction__in=txns).values_list("status", flat=True)) == {"captured", "released"}
    assert side.money() == (balance - sum(ok), held)
    assert SimEffect.objects.filter(provider="wave", effect="payout").count() == len(ok)
    assert CashInBatch.objects.get(pk=batch.pk).status == "completed"
    assert ledger_check().is_ok


def test_an_item_failing_on_a_pool_thread_is_set_aside_and_moves_no_money(
    side: Any,  # noqa: F811 - the fixture
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.MOBILEMONEY_BULK_APPLY_THREADS = 4
    monkeypatch.setattr(batch_work, "APPLY_GROUP", 3)
    size = 24
    balance, held = side.money()
    batch = post_batch(side, size, "choke")
    bad = CashIn.objects.get(batch=batch, line=4)  # suffix 1236: Wave pays it

    def choke(cash_in: CashIn) -> None:
        if cash_in.pk == bad.pk:
            raise RuntimeError("code that chokes on this item")

    def choke_in_group(group: Any) -> None:  # its group fails too, and is applied one by one
        if any(cash_in.pk == bad.pk for cash_in, _ in group):
            raise RuntimeError("code that chokes on this item")

    spy(monkeypatch, "results_apply_bulk", choke_in_group)
    spy(monkeypatch, "result_apply", choke)
    run_chunks(batch)

    bad_txn = Transaction.objects.get(pk=bad.transaction_id)
    assert bad_txn.status == "processing" and bad_txn.set_aside_at is not None
    assert "bulk_item_result" in bad_txn.review_reason
    assert Hold.objects.get(transaction=bad_txn).status == "placed"  # nothing captured for it
    ok = [1000 + i for i in range(size) if not refused(i) and i != 4]
    others = Transaction.objects.filter(cash_in__batch=batch).exclude(pk=bad_txn.pk)
    assert others.filter(status="succeeded").count() == len(ok)
    assert others.exclude(status__in=("succeeded", "failed")).count() == 0
    assert side.money() == (balance - sum(ok), held + 1004)  # the set-aside item's money is still held
    assert ledger_check().is_ok


def test_a_database_error_on_one_claim_rolls_back_that_claim_alone(
    side: Any,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The claims share one DB transaction: an item whose claim hits a database error (which
    aborts a PostgreSQL transaction) — in the chunk's set-based claim, then in its own — is set
    aside and not sent; the others are claimed (one by one) and paid."""
    size = 12
    balance, held = side.money()
    batch = post_batch(side, size, "claims")
    bad = CashIn.objects.select_related("transaction").get(batch=batch, line=2)  # suffix 1235

    def broken_statement(cash_in: CashIn) -> None:
        if cash_in.pk == bad.pk:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")  # division_by_zero: the transaction is aborted

    def broken_in_chunk(items: Any) -> None:
        if any(cash_in.pk == bad.pk for cash_in in items):
            broken_statement(bad)

    spy(monkeypatch, "_claim_all", broken_in_chunk)
    spy(monkeypatch, "_claim", broken_statement)
    run_chunks(batch)

    bad_txn = Transaction.objects.get(pk=bad.transaction_id)
    assert (bad_txn.status, bad_txn.set_aside_at is not None) == ("pending", True)
    assert "bulk_item_prepare" in bad_txn.review_reason
    assert not SimEffect.objects.filter(provider="wave", reference=bad_txn.public_id).exists()  # never sent
    ok = [1000 + i for i in range(size) if not refused(i) and i != 2]
    others = Transaction.objects.filter(cash_in__batch=batch).exclude(pk=bad_txn.pk)
    assert others.filter(status="succeeded").count() == len(ok)
    assert others.exclude(status__in=("succeeded", "failed")).count() == 0
    assert side.money() == (balance - sum(ok), held + 1002)
    assert ledger_check().is_ok


def test_a_batch_settling_answer_after_answer_is_followed_in_one_run_one_call_at_a_time(
    side: Any,  # noqa: F811 - the fixture
) -> None:
    """The sandbox settles a third of a batch per status query: one run submits, then polls again
    while each answer's news is applied, until the batch is complete; the status queries are
    recorded and never overlap (the chunk holds one provider slot: one call in flight)."""
    size = 30
    balance, held = side.money()
    batch = post_batch(side, size, "ahead")
    chunk = BatchChunk.objects.get(batch=batch)

    batch_work.chunk_work(chunk.pk)  # one run, no countdown, no sweeper

    assert BatchChunk.objects.get(pk=chunk.pk).status == "done"
    assert CashInBatch.objects.get(pk=batch.pk).status == "completed"
    calls = list(ProviderCall.objects.filter(operation="payout_batch_get").order_by("started_at"))
    assert len(calls) == 3 and all(call.completed_at is not None and call.outcome == "ok" for call in calls)
    for earlier, later in itertools.pairwise(calls):
        assert earlier.completed_at is not None and later.started_at >= earlier.completed_at  # one at a time
    ok = [1000 + i for i in range(size) if not refused(i)]
    assert side.money() == (balance - sum(ok), held)
    assert SimEffect.objects.filter(provider="wave", effect="payout").count() == len(ok)
    assert ledger_check().is_ok
