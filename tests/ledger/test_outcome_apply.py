"""The one service that applies a provider outcome (ledger/services/outcomes.py): what each kind
does to a transaction and its money, that applying the same outcome twice — in sequence or from
racing processes — moves money once, that contradicting news is flagged and never applied, and
the item guard that keeps one bad item from stopping a loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from core.money import Money
from core.outcomes import Outcome
from ledger.models import Account, Hold, HoldStatus, LedgerEntry, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    item_guard,
    outcome_apply,
    transaction_create,
    transaction_transition,
)
from ledger.states import Cause, Status
from partners.models import Mode, Partner

pytestmark = pytest.mark.django_db


def _processing(create: Callable[..., Transaction], **extra: object) -> Transaction:
    txn = create(**extra)
    transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
    return txn


def _money(txn: Transaction, account: Account) -> tuple[str, int, int, int]:
    account.refresh_from_db()
    hold = Hold.objects.get(transaction=txn)
    return (
        hold.status,
        LedgerEntry.objects.filter(posting__transaction=txn).count(),
        account.balance_minor,
        account.held_minor,
    )


def test_success_captures_once_even_when_applied_twice(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    txn = _processing(create_outgoing, amount=1_000, fee=50)
    first = outcome_apply(transaction=txn, outcome=Outcome.succeeded("WAVE-1"), cause=Cause.WORKER)
    again = outcome_apply(
        transaction=Transaction.objects.get(pk=txn.pk), outcome=Outcome.succeeded("WAVE-1"), cause=Cause.CALLBACK
    )
    assert (first.moved, again.moved, again.status, again.is_settled) == (True, False, "succeeded", True)
    assert _money(txn, live_account) == (HoldStatus.CAPTURED, 3, 100_000 - 1_050, 0)
    assert TransactionEvent.objects.filter(transaction=txn, to_status=Status.SUCCEEDED).count() == 1
    assert Transaction.objects.get(pk=txn.pk).provider_reference == "WAVE-1"
    assert ledger_check().is_ok


def test_rejection_releases_once_and_keeps_the_code(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    txn = _processing(create_outgoing, amount=1_000)
    rejection = Outcome.rejected("provider_rejected", "blocked wallet", provider_code="blocked-account")
    assert outcome_apply(transaction=txn, outcome=rejection, cause=Cause.WORKER).moved
    assert not outcome_apply(transaction=txn, outcome=rejection, cause=Cause.POLLER).moved
    txn.refresh_from_db()
    assert (txn.status, txn.failure_code, txn.failure_message) == ("failed", "provider_rejected", "blocked wallet")
    assert _money(txn, live_account) == (HoldStatus.RELEASED, 0, 100_000, 0)
    event = TransactionEvent.objects.get(transaction=txn, to_status=Status.FAILED)
    assert event.detail["provider_code"] == "blocked-account"


def test_a_callback_overtaking_the_worker_passes_through_processing(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    txn = create_outgoing(amount=500)
    assert outcome_apply(transaction=txn, outcome=Outcome.succeeded(), cause=Cause.CALLBACK).moved
    path = list(TransactionEvent.objects.filter(transaction=txn).values_list("to_status", flat=True))
    assert path == ["pending", "processing", "succeeded"]


def test_unknown_and_unavailable_and_pending(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    txn = _processing(create_outgoing)
    assert not outcome_apply(transaction=txn, outcome=Outcome.unavailable("503"), cause=Cause.WORKER).moved
    assert not outcome_apply(transaction=txn, outcome=Outcome.pending(), cause=Cause.WORKER).moved
    assert txn.status == Status.PROCESSING
    applied = outcome_apply(transaction=txn, outcome=Outcome.unknown("read timeout"), cause=Cause.WORKER)
    assert (applied.moved, applied.status, applied.is_settled) == (True, "unknown", False)
    assert TransactionEvent.objects.get(transaction=txn, to_status="unknown").detail["error"] == "read timeout"
    # an unknown answer about an unknown transaction changes nothing; money is still held
    assert not outcome_apply(transaction=txn, outcome=Outcome.unknown("again"), cause=Cause.POLLER).moved
    assert _money(txn, live_account) == (HoldStatus.PLACED, 0, 100_000, 1_000)


def test_unavailable_past_the_bound_flags_for_review_without_moving(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    txn = _processing(create_outgoing)
    applied = outcome_apply(
        transaction=txn,
        outcome=Outcome.unavailable("down"),
        cause=Cause.WORKER,
        needs_review=True,
        review_reason="retries exhausted",
    )
    txn.refresh_from_db()
    assert (applied.moved, txn.status, txn.needs_review, txn.review_reason) == (
        False,
        "processing",
        True,
        "retries exhausted",
    )


def test_reversed_after_success_reverses_and_before_success_fails(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    paid = _processing(create_outgoing, amount=700, client_reference="a")
    outcome_apply(transaction=paid, outcome=Outcome.succeeded(), cause=Cause.WORKER)
    assert outcome_apply(transaction=paid, outcome=Outcome.reversed(), cause=Cause.CALLBACK).status == "reversed"
    never_paid = _processing(create_outgoing, amount=300, client_reference="b")
    assert outcome_apply(transaction=never_paid, outcome=Outcome.reversed(), cause=Cause.CALLBACK).status == "failed"
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000, 0)
    assert ledger_check().is_ok


def test_news_contradicting_a_settled_transaction_is_flagged_not_applied(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    failed = _processing(create_outgoing, client_reference="f")
    outcome_apply(transaction=failed, outcome=Outcome.rejected("provider_rejected"), cause=Cause.WORKER)
    late = outcome_apply(transaction=failed, outcome=Outcome.succeeded("X"), cause=Cause.CALLBACK)
    failed.refresh_from_db()
    assert (late.moved, failed.status, failed.needs_review) == (False, "failed", True)
    assert "succeeded" in failed.review_reason
    assert Hold.objects.get(transaction=failed).status == HoldStatus.RELEASED


@pytest.fixture
def make_funded() -> Callable[[], tuple[Transaction, Account]]:
    def make() -> tuple[Transaction, Account]:
        partner = Partner.objects.create(name="Racer", code="racer")
        account = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
        account_fund(account=account, amount_minor=10_000, description="funds for the race")
        account.refresh_from_db()
        txn = transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind=Transaction.Kind.CASH_IN,
            provider="wave",
            money=Money(1_000, "XOF"),
            hold_account=account,
        )
        transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
        return txn, account

    return make


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", [Outcome.succeeded("P-1"), Outcome.rejected("provider_rejected", "no")])
def test_the_same_outcome_from_racing_processes_moves_money_once(outcome: Outcome, make_funded) -> None:  # type: ignore[no-untyped-def]
    txn, account = make_funded()
    racers = 8
    barrier = threading.Barrier(racers)
    results: list[bool] = []

    def apply() -> None:
        try:
            mine = Transaction.objects.get(pk=txn.pk)  # each racer reads the row on its own connection
            barrier.wait(timeout=20)
            results.append(outcome_apply(transaction=mine, outcome=outcome, cause=Cause.POLLER).moved)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    terminal = Status.SUCCEEDED if outcome.kind == "succeeded" else Status.FAILED
    assert sorted(results) == [False] * (racers - 1) + [True]
    assert TransactionEvent.objects.filter(transaction=txn, to_status=terminal).count() == 1
    expected = (
        (HoldStatus.CAPTURED, 2, 10_000 - 1_000, 0) if terminal == "succeeded" else (HoldStatus.RELEASED, 0, 10_000, 0)
    )
    assert _money(txn, account) == expected
    assert ledger_check().is_ok


def test_item_guard_sets_the_item_aside_logs_its_id_and_lets_the_loop_go_on(
    create_outgoing, live_account, caplog
) -> None:  # type: ignore[no-untyped-def]
    rows = [_processing(create_outgoing, client_reference=f"r{n}") for n in range(3)]
    done = []
    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        for txn in rows:
            with item_guard(work="test.loop", transaction=txn):
                if txn is rows[1]:
                    raise RuntimeError("a bug met this row")
                outcome_apply(transaction=txn, outcome=Outcome.succeeded(), cause=Cause.POLLER)
                done.append(txn.pk)
    assert done == [rows[0].pk, rows[2].pk]
    bad = Transaction.objects.get(pk=rows[1].pk)
    assert (bad.status, bad.needs_review, bad.review_reason) == ("processing", True, "test.loop failed: RuntimeError")
    assert bad.set_aside_at is not None
    assert any(getattr(r, "transaction", None) == bad.public_id for r in caplog.records)


def test_item_guard_lets_a_stopping_worker_stop(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    txn = _processing(create_outgoing)
    with pytest.raises(KeyboardInterrupt), item_guard(work="test.loop", transaction=txn):
        raise KeyboardInterrupt
    assert Transaction.objects.get(pk=txn.pk).set_aside_at is None


@pytest.mark.django_db(transaction=True)
def test_each_committed_change_is_counted_and_logged_with_the_transaction(make_funded, caplog) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import REGISTRY

    def count(status: str) -> float:
        labels = {"kind": "cash_in", "provider": "wave", "status": status}
        return REGISTRY.get_sample_value("addon_transactions_total", labels) or 0.0

    before = count("succeeded")
    txn, _ = make_funded()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ledger.transactions"):
        outcome_apply(transaction=txn, outcome=Outcome.succeeded(), cause=Cause.WORKER)
    assert count("succeeded") == before + 1
    lines = [r for r in caplog.records if r.name == "ledger.transactions"]
    assert [(r.getMessage(), r.transaction) for r in lines] == [  # type: ignore[attr-defined]
        (f"transaction {txn.public_id}: processing -> succeeded (worker)", txn.public_id)
    ]


def test_a_claim_is_taken_once_and_never_on_a_set_aside_transaction(create_outgoing, live_account) -> None:  # type: ignore[no-untyped-def]
    from ledger.services import transaction_claim, transaction_set_aside

    txn = create_outgoing(client_reference="c1")
    assert transaction_claim(transaction=txn) is True
    assert transaction_claim(transaction=Transaction.objects.get(pk=txn.pk)) is False
    aside = create_outgoing(client_reference="c2")
    transaction_set_aside(transaction_pk=aside.pk, reason="test")
    assert transaction_claim(transaction=Transaction.objects.get(pk=aside.pk)) is False
    assert Transaction.objects.get(pk=aside.pk).status == "pending"
