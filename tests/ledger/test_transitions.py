"""transaction_transition: every legal move records itself once; every illegal one writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.errors import IllegalTransition
from ledger import states
from ledger.models import Account, Hold, LedgerEntry, OutboxEvent, Transaction, TransactionEvent
from ledger.services import transaction_transition
from ledger.states import Cause, Status
from tests.ledger.conftest import counts

# the shortest path from pending to each status, through legal moves only
PATHS: dict[str, list[str]] = {
    "pending": [],
    "processing": ["processing"],
    "unknown": ["processing", "unknown"],
    "succeeded": ["processing", "succeeded"],
    "failed": ["failed"],
    "reversed": ["processing", "succeeded", "reversed"],
    "cancelled": ["cancelled"],
    "expired": ["expired"],
}
LEGAL = [(a, b) for a, b in states.all_pairs() if states.is_allowed(a, b)]
ILLEGAL = [(a, b) for a, b in states.all_pairs() if not states.is_allowed(a, b)]


def bring_to(transaction: Transaction, status: str) -> Transaction:
    for step in PATHS[status]:
        transaction_transition(transaction=transaction, to_status=step, cause=Cause.WORKER)
    assert Transaction.objects.get(pk=transaction.pk).status == status
    return transaction


def test_the_pair_lists_cover_every_pair() -> None:
    assert len(LEGAL) == 11
    assert len(ILLEGAL) == 64 - 11


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_every_legal_transition_writes_one_event_and_one_outbox_row(
    create_outgoing: Callable[..., Transaction], source: str, target: str
) -> None:
    transaction = bring_to(create_outgoing(), source)
    before_events, before_outbox = TransactionEvent.objects.count(), OutboxEvent.objects.count()

    result = transaction_transition(
        transaction=transaction, to_status=target, cause=Cause.CALLBACK, detail={"note": "x"}, actor={"task": "t"}
    )

    assert result is transaction and transaction.status == target
    assert Transaction.objects.get(pk=transaction.pk).status == target
    assert TransactionEvent.objects.count() == before_events + 1
    assert OutboxEvent.objects.count() == before_outbox + 1
    event = TransactionEvent.objects.latest("id")
    assert (event.transaction_id, event.from_status, event.to_status, event.cause) == (
        transaction.pk,
        source,
        target,
        "callback",
    )
    assert (event.detail, event.actor) == ({"note": "x"}, {"task": "t"})
    outbox = OutboxEvent.objects.latest("id")
    assert outbox.type == f"transaction.{target}"
    assert (outbox.aggregate_type, outbox.aggregate_id) == ("transaction", transaction.public_id)
    assert outbox.payload["status"] == target and outbox.payload["id"] == transaction.public_id
    assert outbox.public_id.startswith("evt_") and outbox.partner_id == transaction.partner_id


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_illegal_transition_raises_and_writes_nothing(
    create_outgoing: Callable[..., Transaction], live_account: Account, source: str, target: str
) -> None:
    transaction = bring_to(create_outgoing(), source)
    before = counts()
    row_before = Transaction.objects.values().get(pk=transaction.pk)
    live_account.refresh_from_db()
    money_before = (live_account.balance_minor, live_account.held_minor)

    with pytest.raises(IllegalTransition):
        transaction_transition(transaction=transaction, to_status=target, cause=Cause.WORKER, failure_code="x")

    assert counts() == before
    assert Transaction.objects.values().get(pk=transaction.pk) == row_before
    assert transaction.status == source
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == money_before


@pytest.mark.parametrize("final", sorted(states.FINAL))
def test_final_states_never_change(create_outgoing: Callable[..., Transaction], final: str) -> None:
    transaction = bring_to(create_outgoing(), final)
    for target in Status:
        with pytest.raises(IllegalTransition):
            transaction_transition(transaction=transaction, to_status=target, cause=Cause.STAFF)
    assert Transaction.objects.get(pk=transaction.pk).status == final


def test_succeeded_only_moves_to_reversed(create_outgoing: Callable[..., Transaction]) -> None:
    transaction = bring_to(create_outgoing(), "succeeded")
    for target in Status:
        if target == Status.REVERSED:
            continue
        with pytest.raises(IllegalTransition):
            transaction_transition(transaction=transaction, to_status=target, cause=Cause.POLLER)
    assert Transaction.objects.get(pk=transaction.pk).status == "succeeded"


def test_a_stale_object_is_judged_against_the_database(create_outgoing: Callable[..., Transaction]) -> None:
    """A worker holding ``processing`` while a callback already moved the row to ``unknown``."""
    transaction = bring_to(create_outgoing(), "processing")
    stale = Transaction.objects.get(pk=transaction.pk)
    transaction_transition(transaction=transaction, to_status="unknown", cause=Cause.CALLBACK)

    transaction_transition(transaction=stale, to_status="succeeded", cause=Cause.POLLER)

    event = TransactionEvent.objects.latest("id")
    assert (event.from_status, event.to_status) == ("unknown", "succeeded")  # the truth, not the stale view
    assert Hold.objects.get(transaction=transaction).status == "captured"


def test_a_stale_object_cannot_move_a_settled_transaction_back(create_outgoing: Callable[..., Transaction]) -> None:
    transaction = bring_to(create_outgoing(), "processing")
    stale = Transaction.objects.get(pk=transaction.pk)
    transaction_transition(transaction=transaction, to_status="succeeded", cause=Cause.CALLBACK)
    before = counts()

    with pytest.raises(IllegalTransition):
        transaction_transition(transaction=stale, to_status="failed", cause=Cause.WORKER)

    assert counts() == before
    assert stale.status == "succeeded"  # refreshed from the database while judging
    assert Transaction.objects.get(pk=transaction.pk).status == "succeeded"


def test_failure_details_are_recorded(create_outgoing: Callable[..., Transaction]) -> None:
    transaction = create_outgoing()
    transaction_transition(
        transaction=transaction,
        to_status="failed",
        cause=Cause.WORKER,
        failure_code="provider_rejected",
        failure_message="blocked wallet",
        provider_reference="T_123",
        needs_review=True,
    )
    row = Transaction.objects.get(pk=transaction.pk)
    assert (row.failure_code, row.failure_message, row.provider_reference, row.needs_review) == (
        "provider_rejected",
        "blocked wallet",
        "T_123",
        True,
    )
    assert OutboxEvent.objects.latest("id").payload["failure_code"] == "provider_rejected"


def test_an_unknown_cause_is_refused_before_anything_is_written(create_outgoing: Callable[..., Transaction]) -> None:
    transaction = create_outgoing()
    before = counts()
    with pytest.raises(ValueError):
        transaction_transition(transaction=transaction, to_status="processing", cause="gremlin")
    assert counts() == before
    assert Transaction.objects.get(pk=transaction.pk).status == "pending"


# --- money follows the status --------------------------------------------------------------


def test_success_captures_the_hold_into_provider_float_and_fees(
    create_outgoing: Callable[..., Transaction], live_account: Account
) -> None:
    transaction = create_outgoing(amount=1_000, fee=50)
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000, 1_050)

    bring_to(transaction, "succeeded")

    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (98_950, 0)
    wave = Account.objects.get(kind="provider_float", provider="wave", mode="live", currency="XOF")
    fees = Account.objects.get(kind="fees", mode="live", currency="XOF")
    assert (wave.balance_minor, fees.balance_minor) == (1_000, 50)
    entries = sorted(LedgerEntry.objects.filter(transaction=transaction).values_list("amount_minor", flat=True))
    assert entries == [-1_050, 50, 1_000]


@pytest.mark.parametrize("final", ["failed", "cancelled", "expired"])
def test_failure_releases_the_hold_and_moves_no_money(
    create_outgoing: Callable[..., Transaction], live_account: Account, final: str
) -> None:
    transaction = create_outgoing(amount=1_000, fee=50)
    bring_to(transaction, final)
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000, 0)
    assert not LedgerEntry.objects.filter(transaction=transaction).exists()
    assert Hold.objects.get(transaction=transaction).status == "released"


def test_reversal_gives_everything_back(create_outgoing: Callable[..., Transaction], live_account: Account) -> None:
    transaction = create_outgoing(amount=1_000, fee=50)
    bring_to(transaction, "reversed")
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000, 0)
    for account in Account.objects.exclude(kind="partner").filter(mode="live", provider__in=["wave", ""]):
        assert account.balance_minor == 0
    assert LedgerEntry.objects.filter(transaction=transaction).count() == 6
