"""A chunk's claims made set-based, its final results applied in groups, one DB transaction each
(docs/performance.md, P6): ``ledger.services.transactions_claim_bulk``, ``outcomes_apply_bulk`` and
``mobilemoney.services.outcomes.results_apply_bulk``.

Each guarantee of ``result_apply`` holds per item: the same rows as one item at a time (status,
event, outbox row, capture posting or release), compare-and-set (an item another writer moved
first is not moved, nor is its money), money moved once, and an item that fails is set aside
alone with no money moved while the rest of its group is applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext

from core.outcomes import Outcome
from ledger.models import Account, Hold, HoldStatus, LedgerEntry, OutboxEvent, Posting, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import (
    outcomes_apply_bulk,
    transaction_set_aside,
    transaction_transition,
    transactions_claim_bulk,
)
from ledger.states import Cause, Status
from mobilemoney.models import CashIn, CashInBatch
from mobilemoney.services import batch_work
from tests.ledger.conftest import counts, create_outgoing, live_account, partner  # noqa: F401 - fixtures
from tests.mobilemoney.test_api_batches import PATH, item, run_chunks, side  # noqa: F401 - side is a fixture
from tests.mobilemoney.test_batch_apply import SUFFIXES, post_batch, refused

SIZE = 24


def post_named_batch(side: Any, name: str) -> CashInBatch:  # noqa: F811 - the fixture's value
    """``post_batch``'s items under client references of their own (two batches in one test)."""
    items = [{**item(i, SUFFIXES[i % len(SUFFIXES)], amount=str(1000 + i)), "client_reference": f"{name}-{i}"}
             for i in range(SIZE)]  # fmt: skip
    answer = side.client.post(PATH, json={"provider": "wave", "items": items}, idempotency_key=name)
    assert answer.status == 202, answer.body
    return CashInBatch.objects.get(public_id=answer.body["id"])


def _rows(batch: CashInBatch) -> list[tuple[Any, ...]]:
    """What applying the results wrote for each line, without ids, references and times."""
    found = []
    for cash_in in CashIn.objects.filter(batch=batch).select_related("transaction").order_by("line"):
        txn = cash_in.transaction
        events = [
            (e.from_status, e.to_status, e.cause, e.actor, e.detail)
            for e in TransactionEvent.objects.filter(transaction=txn).order_by("pk")
        ]
        outbox = [
            (o.type, o.aggregate_type, o.mode, {k: v for k, v in o.payload.items() if not k.endswith(("_at", "id"))})
            for o in OutboxEvent.objects.filter(aggregate_id=txn.public_id).order_by("pk")
        ]
        for _, _, _, payload in outbox:
            payload.pop("client_reference")
            payload["provider_reference"] = bool(payload["provider_reference"])
        postings = [
            (
                p.description.split()[0],
                sorted(
                    (e.account.kind, e.amount_minor)
                    for e in LedgerEntry.objects.filter(posting=p).select_related("account")
                ),
            )
            for p in Posting.objects.filter(transaction=txn).order_by("pk")
        ]
        found.append(
            (
                cash_in.line,
                txn.status,
                txn.failure_code,
                txn.failure_message,
                bool(txn.provider_reference),
                cash_in.provider_reference == txn.provider_reference,
                cash_in.next_poll_at,
                Hold.objects.get(transaction=txn).status,
                events,
                outbox,
                postings,
            )
        )
    return found


def test_groups_write_what_one_item_at_a_time_writes(
    side: Any,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    balance, held = side.money()
    one_by_one = post_named_batch(side, "one-by-one")
    with monkeypatch.context() as patched:  # every claim and every result one at a time
        patched.setattr(batch_work, "_requests", batch_work._requests_one_by_one)
        patched.setattr(batch_work, "results_apply_bulk", lambda final, cause: final)
        run_chunks(one_by_one)

    grouped_items = []
    real = batch_work.results_apply_bulk

    def counted(final: Any, *, cause: str) -> Any:
        left = real(final, cause=cause)
        grouped_items.append(len(final) - len(left))
        return left

    monkeypatch.setattr(batch_work, "results_apply_bulk", counted)
    grouped = post_named_batch(side, "grouped")
    run_chunks(grouped)

    assert sum(grouped_items) == SIZE  # every result was applied by a group
    assert _rows(grouped) == _rows(one_by_one)
    ok = [1000 + i for i in range(SIZE) if not refused(i)]
    assert side.money() == (balance - 2 * sum(ok), held)
    assert ledger_check().is_ok


def test_a_group_with_an_item_that_fails_is_applied_one_by_one_and_sets_that_item_aside(
    side: Any,  # noqa: F811 - the fixture
) -> None:
    """A real failure inside the group's transaction (the hold no longer matches its transaction):
    the group rolls back, its items are applied one at a time, the bad one is set aside with its
    money still held and nothing posted for it; every other item is settled."""
    balance, held = side.money()
    batch = post_batch(side, SIZE, "bad-hold")
    bad = CashIn.objects.get(batch=batch, line=4)  # suffix 1236: Wave pays it
    Hold.objects.filter(transaction_id=bad.transaction_id).update(amount_minor=1)

    run_chunks(batch)

    bad_txn = Transaction.objects.get(pk=bad.transaction_id)
    assert bad_txn.status == "processing" and bad_txn.set_aside_at is not None
    assert "bulk_item_result" in bad_txn.review_reason
    assert Hold.objects.get(transaction=bad_txn).status == "placed"
    assert not Posting.objects.filter(transaction=bad_txn).exists()
    ok = [1000 + i for i in range(SIZE) if not refused(i) and i != 4]
    others = Transaction.objects.filter(cash_in__batch=batch).exclude(pk=bad_txn.pk)
    assert others.filter(status="succeeded").count() == len(ok)
    assert others.exclude(status__in=("succeeded", "failed")).count() == 0
    assert side.money() == (balance - sum(ok), held + 1004)  # the set-aside item's money is still held
    Hold.objects.filter(transaction_id=bad.transaction_id).update(amount_minor=1004)
    assert ledger_check().is_ok


@pytest.mark.django_db
def test_a_transaction_another_writer_moved_first_is_not_moved_and_its_money_not_touched(
    create_outgoing: Callable[..., Transaction],  # noqa: F811 - the fixture
    live_account: Account,  # noqa: F811 - the fixture
) -> None:
    txns = [create_outgoing(amount=1_000, fee=10) for _ in range(3)]
    for txn in txns:
        transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
    raced = txns[1]
    transaction_transition(  # a callback got there first, with a stale copy kept by our worker
        transaction=Transaction.objects.get(pk=raced.pk), to_status=Status.FAILED, cause=Cause.CALLBACK
    )
    before = counts()

    with db_transaction.atomic():
        moved, not_moved = outcomes_apply_bulk(
            [(txn, Outcome.succeeded(f"W-{txn.pk}")) for txn in txns], cause=Cause.WORKER
        )

    assert [t.pk for t in moved] == [txns[0].pk, txns[2].pk] and [t.pk for t in not_moved] == [raced.pk]
    assert raced.status == Status.PROCESSING  # the stale copy: left for outcome_apply to judge again
    assert Transaction.objects.get(pk=raced.pk).status == Status.FAILED
    assert Hold.objects.get(transaction=raced).status == HoldStatus.RELEASED
    assert not Posting.objects.filter(transaction=raced).exists()
    after = counts()
    assert (after["events"] - before["events"], after["outbox"] - before["outbox"]) == (2, 2)
    assert after["entries"] - before["entries"] == 2 * 3  # partner, float, fees per capture
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000 - 2 * 1_010, 0)

    assert ledger_check().is_ok


@pytest.mark.django_db
def test_a_group_that_raises_writes_nothing_and_restores_the_objects(
    create_outgoing: Callable[..., Transaction],  # noqa: F811 - the fixture
    live_account: Account,  # noqa: F811 - the fixture
) -> None:
    txns = [create_outgoing(amount=2_000) for _ in range(3)]
    for txn in txns:
        transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
    Hold.objects.filter(transaction=txns[2]).update(status=HoldStatus.CAPTURED)  # money moved elsewhere
    live_account.refresh_from_db()
    money_before, rows_before = (live_account.balance_minor, live_account.held_minor), counts()

    with pytest.raises(Exception, match="not placed"), db_transaction.atomic():
        outcomes_apply_bulk(
            [
                (txns[0], Outcome.succeeded("A")),
                (txns[1], Outcome.rejected("provider_rejected", "no")),
                (txns[2], Outcome.succeeded("C")),
            ],
            cause=Cause.WORKER,
        )

    assert [t.status for t in txns] == [Status.PROCESSING] * 3  # the caller's objects as they were
    assert (
        list(Transaction.objects.filter(pk__in=[t.pk for t in txns]).values_list("status", flat=True))
        == [Status.PROCESSING] * 3
    )
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == money_before  # no money moved
    assert counts() == rows_before
    Hold.objects.filter(transaction=txns[2]).update(status=HoldStatus.PLACED)
    assert ledger_check().is_ok


@pytest.mark.django_db
def test_a_group_costs_the_same_few_statements_however_many_items(
    create_outgoing: Callable[..., Transaction],  # noqa: F811 - the fixture
) -> None:
    """Statements per group, not per item: the compare-and-set UPDATE, the events' and the outbox
    rows' INSERTs, the holds' UPDATE, the two system accounts, ONE statement for every capture's
    posting and one release UPDATE (``outcome_apply`` took about a dozen per item)."""
    txns = [create_outgoing(amount=1_000, fee=10) for _ in range(40)]
    for txn in txns:
        transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
    refusal = Outcome.rejected("provider_rejected", "no")
    pairs = [(t, Outcome.succeeded("W") if i % 4 else refusal) for i, t in enumerate(txns)]

    statements = []
    for group in (pairs[:2], pairs[2:6], pairs[6:]):  # the first creates the float and fees accounts
        with CaptureQueriesContext(connection) as queries, db_transaction.atomic():
            moved, _ = outcomes_apply_bulk(group, cause=Cause.WORKER)
        assert len(moved) == len(group)
        statements.append([q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])
    assert len(statements[1]) == len(statements[2]) == 8, statements[2]
    assert ledger_check().is_ok


@pytest.mark.django_db
def test_claims_move_each_pending_transaction_once(
    create_outgoing: Callable[..., Transaction],  # noqa: F811 - the fixture
    live_account: Account,  # noqa: F811 - the fixture
) -> None:
    free, taken, aside = (create_outgoing(amount=1_000) for _ in range(3))
    transaction_transition(  # another worker claimed it; our copy still says pending
        transaction=Transaction.objects.get(pk=taken.pk), to_status=Status.PROCESSING, cause=Cause.WORKER
    )
    transaction_set_aside(transaction_pk=aside.pk, reason="staff look")
    aside.refresh_from_db()
    before = counts()

    with db_transaction.atomic():
        moved, not_moved = transactions_claim_bulk([free, taken, aside], cause=Cause.WORKER)
    with db_transaction.atomic():  # the same claims again: nothing left to move
        again, _ = transactions_claim_bulk([Transaction.objects.get(pk=free.pk)], cause=Cause.WORKER)

    assert [t.pk for t in moved] == [free.pk] and [t.pk for t in not_moved] == [taken.pk, aside.pk] and again == []
    assert (free.status, taken.status, aside.status) == (Status.PROCESSING, Status.PROCESSING, Status.PENDING)
    event = TransactionEvent.objects.filter(transaction=free).latest("pk")
    assert (event.from_status, event.to_status, event.cause) == (Status.PENDING, Status.PROCESSING, Cause.WORKER)
    assert OutboxEvent.objects.filter(aggregate_id=free.public_id, type="transaction.processing").count() == 1
    after = counts()
    assert (after["events"] - before["events"], after["outbox"] - before["outbox"], after["entries"]) == (
        1,
        1,
        before["entries"],
    )
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000, 3_000)  # no money moved
