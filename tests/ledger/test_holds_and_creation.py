"""Holds (exactly-once capture and release) and transaction_create (one short, bounded transaction)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict, ErrorCode, InsufficientFunds
from core.money import Money
from ledger.models import Account, Hold, LedgerEntry, OutboxEvent, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import (
    account_get_or_create_partner_account,
    hold_capture,
    hold_place,
    hold_release,
    outbox_record,
    transaction_create,
    transaction_transition,
)
from partners.models import Mode, Partner
from tests.ledger.conftest import counts


def _txn(partner: Partner, amount: int = 1_000, kind: str = "cash_in") -> Transaction:
    """A bare transaction row without a hold, to exercise the hold services directly."""
    return Transaction.objects.create(
        partner=partner, mode=Mode.LIVE, kind=kind, provider="wave", amount_minor=amount, currency="XOF"
    )


def balances(account: Account) -> tuple[int, int]:
    account.refresh_from_db()
    return account.balance_minor, account.held_minor


# --- holds --------------------------------------------------------------------------------


def test_a_hold_reduces_available_not_balance(partner: Partner, live_account: Account) -> None:
    hold = hold_place(account=live_account, amount_minor=1_000, transaction=_txn(partner))
    assert (hold.status, hold.amount_minor, hold.currency) == ("placed", 1_000, "XOF")
    assert balances(live_account) == (100_000, 1_000)
    assert live_account.available_minor == 99_000
    assert not LedgerEntry.objects.filter(account=live_account, transaction__isnull=False).exists()


def test_a_hold_beyond_available_is_insufficient_funds(partner: Partner, live_account: Account) -> None:
    hold_place(account=live_account, amount_minor=60_000, transaction=_txn(partner))
    with pytest.raises(InsufficientFunds) as caught:
        hold_place(account=live_account, amount_minor=40_001, transaction=_txn(partner))
    assert caught.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert balances(live_account) == (100_000, 60_000)
    assert Hold.objects.count() == 1
    hold_place(account=live_account, amount_minor=40_000, transaction=_txn(partner))  # exactly the rest
    assert balances(live_account) == (100_000, 100_000)


def test_the_overdraft_limit_counts_for_holds(partner: Partner) -> None:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    Account.objects.filter(pk=account.pk).update(overdraft_limit_minor=5_000)
    hold_place(account=account, amount_minor=5_000, transaction=_txn(partner, 5_000))
    with pytest.raises(InsufficientFunds):
        hold_place(account=account, amount_minor=1, transaction=_txn(partner, 1))


def test_capture_is_exactly_once(partner: Partner, live_account: Account) -> None:
    transaction = _txn(partner)
    hold_place(account=live_account, amount_minor=1_000, transaction=transaction)
    hold_capture(transaction=transaction)
    entries = LedgerEntry.objects.count()

    again = hold_capture(transaction=transaction)

    assert again.status == "captured"
    assert LedgerEntry.objects.count() == entries
    assert balances(live_account) == (99_000, 0)
    assert Account.objects.get(kind="provider_float", provider="wave").balance_minor == 1_000
    with pytest.raises(Conflict):
        hold_release(transaction=transaction)
    assert balances(live_account) == (99_000, 0)


def test_release_is_exactly_once(partner: Partner, live_account: Account) -> None:
    transaction = _txn(partner)
    hold_place(account=live_account, amount_minor=1_000, transaction=transaction)
    hold_release(transaction=transaction)
    assert hold_release(transaction=transaction).status == "released"
    assert balances(live_account) == (100_000, 0)
    before = counts()
    with pytest.raises(Conflict):
        hold_capture(transaction=transaction)
    assert counts() == before and balances(live_account) == (100_000, 0)


def test_a_transaction_has_at_most_one_hold(partner: Partner, live_account: Account) -> None:
    transaction = _txn(partner)
    hold_place(account=live_account, amount_minor=1_000, transaction=transaction)
    with pytest.raises(IntegrityError), db_transaction.atomic():
        hold_place(account=live_account, amount_minor=1_000, transaction=transaction)
    assert balances(live_account) == (100_000, 1_000)


def test_a_hold_must_be_on_the_transactions_own_account(
    partner: Partner, other_partner: Partner, live_account: Account
) -> None:
    with pytest.raises(ValueError):
        hold_place(account=live_account, amount_minor=1_000, transaction=_txn(other_partner))
    assert balances(live_account) == (100_000, 0)


# --- transaction_create -------------------------------------------------------------------


def test_create_writes_pending_transaction_hold_event_and_outbox(partner: Partner, live_account: Account) -> None:
    transaction = transaction_create(
        partner=partner,
        mode=Mode.LIVE,
        kind="bill_payment",
        provider="niirpay",
        money=Money(2_500, "XOF"),
        fee=Money(100, "XOF"),
        client_reference="inv-42",
        metadata={"biller": "senelec"},
        hold_account=live_account,
    )
    row = Transaction.objects.get(pk=transaction.pk)
    assert row.public_id.startswith("txn_") and row.status == "pending"
    assert (row.amount_minor, row.fee_minor, row.currency, row.client_reference, row.metadata) == (
        2_500,
        100,
        "XOF",
        "inv-42",
        {"biller": "senelec"},
    )
    assert Hold.objects.get(transaction=row).amount_minor == 2_600
    assert balances(live_account) == (100_000, 2_600)
    event = TransactionEvent.objects.get(transaction=row)
    assert (event.from_status, event.to_status, event.cause) == ("", "pending", "api")
    outbox = OutboxEvent.objects.get()
    assert (outbox.type, outbox.aggregate_id, outbox.payload["amount"], outbox.payload["fee"]) == (
        "transaction.created",
        row.public_id,
        "2500",
        "100",
    )


EXPECTED_STATEMENTS = [
    "BEGIN",  # the short DB transaction opens (Django logs it as a statement)
    "UPDATE ledger_account SET",  # 1. reserve amount+fee where funds suffice (this IS the funds check)
    # 2. the pending transaction, its hold (placed), its event (none -> pending) and
    # transaction.created in the outbox: one statement, WITH w_first AS (INSERT INTO
    # ledger_transaction … RETURNING id), w0 AS (INSERT INTO ledger_hold …), w1 AS (INSERT INTO
    # ledger_transactionevent …) INSERT INTO ledger_outboxevent … (core/db.py insert_together)
    "WITH w_first AS",
    "COMMIT",
]


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [" ".join(query["sql"].replace('"', "").split()[:3]) for query in context.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_create_is_one_short_transaction_of_exactly_two_statements() -> None:
    """Outermost, as in a request: BEGIN, two statements, COMMIT, then the relay's NOTIFY; no SELECT."""
    partner = Partner.objects.create(name="Bounded", code="bounded")
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")

    with CaptureQueriesContext(connection) as context:
        transaction_create(
            partner=partner,
            mode=Mode.TEST,
            kind="cash_in",
            provider="wave",
            money=Money(1_000, "XOF"),
            fee=Money(10, "XOF"),
            client_reference="r",
            metadata={},
            hold_account=account,
        )

    # after the COMMIT, outside the transaction: the outbox relay's wake-up (ledger/services/outbox.py)
    assert _statements(context) == [*EXPECTED_STATEMENTS, "NOTIFY ledger_outbox"]
    assert len(context.captured_queries) == 5
    combined = context.captured_queries[2]["sql"].replace('"', "")
    for table in ("ledger_transaction", "ledger_hold", "ledger_transactionevent", "ledger_outboxevent"):
        assert f"INSERT INTO {table}" in combined


def test_create_inside_a_callers_transaction_adds_only_its_savepoint(partner: Partner, live_account: Account) -> None:
    with CaptureQueriesContext(connection) as context:
        transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind="cash_in",
            provider="wave",
            money=Money(1_000, "XOF"),
            client_reference="r",
            metadata={},
            hold_account=live_account,
        )
    statements = _statements(context)
    assert statements[1:-1] == EXPECTED_STATEMENTS[1:-1]
    assert statements[0].startswith("SAVEPOINT") and statements[-1].startswith("RELEASE SAVEPOINT")
    assert len(statements) == 4


def test_create_refused_for_insufficient_funds_writes_nothing(partner: Partner, live_account: Account) -> None:
    before = {**counts(), "transactions": Transaction.objects.count(), "holds": Hold.objects.count()}
    with pytest.raises(InsufficientFunds):
        transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind="cash_in",
            provider="wave",
            money=Money(99_990, "XOF"),
            fee=Money(11, "XOF"),
            client_reference="r",
            metadata={},
            hold_account=live_account,
        )
    assert {**counts(), "transactions": Transaction.objects.count(), "holds": Hold.objects.count()} == before
    assert OutboxEvent.objects.count() == 0
    assert balances(live_account) == (100_000, 0)


@pytest.mark.parametrize(
    ("kind", "with_hold", "fee"),
    [("cash_in", False, 0), ("collection", True, 0), ("collection", False, 2_000)],
    ids=["outgoing without hold", "incoming with hold", "fee above amount"],
)
def test_create_refuses_inconsistent_requests(
    partner: Partner, live_account: Account, kind: str, with_hold: bool, fee: int
) -> None:
    with pytest.raises(ValueError):
        transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind=kind,
            provider="wave",
            money=Money(1_000, "XOF"),
            fee=Money(fee, "XOF"),
            client_reference="r",
            metadata={},
            hold_account=live_account if with_hold else None,
        )
    assert Transaction.objects.count() == 0


def test_create_refuses_a_hold_account_of_another_mode(partner: Partner, live_account: Account) -> None:
    with pytest.raises(ValueError):
        transaction_create(
            partner=partner,
            mode=Mode.TEST,
            kind="cash_in",
            provider="wave",
            money=Money(1_000, "XOF"),
            client_reference="r",
            metadata={},
            hold_account=live_account,
        )
    assert Transaction.objects.count() == 0 and balances(live_account) == (100_000, 0)


def test_an_incoming_transaction_credits_the_partner_net_of_fee_on_success(
    partner: Partner, live_account: Account
) -> None:
    transaction = transaction_create(
        partner=partner,
        mode=Mode.LIVE,
        kind="collection",
        provider="orange_money",
        money=Money(5_000, "XOF"),
        fee=Money(75, "XOF"),
        client_reference="cos-1",
        metadata={},
    )
    assert balances(live_account) == (100_000, 0)
    transaction_transition(transaction=transaction, to_status="processing", cause="worker")
    transaction_transition(transaction=transaction, to_status="succeeded", cause="callback")

    assert balances(live_account) == (104_925, 0)
    float_account = Account.objects.get(kind="provider_float", provider="orange_money", mode="live")
    assert float_account.balance_minor == -5_000
    assert Account.objects.get(kind="fees", mode="live").balance_minor == 75
    assert ledger_check().is_ok

    transaction_transition(transaction=transaction, to_status="reversed", cause="staff", actor={"user": 1})
    assert balances(live_account) == (100_000, 0)
    assert ledger_check().is_ok


def test_a_reversal_the_partner_cannot_cover_is_refused_and_writes_nothing(
    partner: Partner, live_account: Account, create_outgoing: Callable[..., Transaction]
) -> None:
    incoming = transaction_create(
        partner=partner,
        mode=Mode.LIVE,
        kind="collection",
        provider="sica",
        money=Money(50_000, "XOF"),
        client_reference="in-1",
        metadata={},
    )
    transaction_transition(transaction=incoming, to_status="processing", cause="worker")
    transaction_transition(transaction=incoming, to_status="succeeded", cause="worker")
    create_outgoing(amount=150_000)  # the partner spends (holds) everything
    before = counts()

    with pytest.raises(InsufficientFunds):
        transaction_transition(transaction=incoming, to_status="reversed", cause="staff")

    assert counts() == before
    assert incoming.status == "succeeded"
    assert Transaction.objects.get(pk=incoming.pk).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_outbox_record_refuses_to_run_outside_a_transaction() -> None:
    """In autocommit the event would be committed without the change it describes."""
    partner = Partner.objects.create(name="Outside", code="outside")

    class CheckoutSession:
        public_id = "cos_01"

    with pytest.raises(RuntimeError, match="inside the DB transaction"):
        outbox_record(type="x.y", aggregate=CheckoutSession(), partner=partner, mode="test", payload={})
    assert not OutboxEvent.objects.exists()


def test_outbox_record_names_other_aggregates(partner: Partner) -> None:
    class CheckoutSession:
        public_id = "cos_01"

    event = outbox_record(
        type="checkout_session.completed", aggregate=CheckoutSession(), partner=partner, mode="test", payload={"a": 1}
    )
    assert (event.aggregate_type, event.aggregate_id, event.type, event.payload) == (
        "checkout_session",
        "cos_01",
        "checkout_session.completed",
        {"a": 1},
    )
    assert event.public_id.startswith("evt_") and event.published_at is None and event.attempts == 0
