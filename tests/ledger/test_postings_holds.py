"""Holds in plain SQL (ledger/services/holds.py): the reserve's funds check and the one-statement claim."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict, InsufficientFunds
from core.money import Money
from ledger.models import Account, Hold, Transaction
from ledger.services import hold_capture, hold_release, transaction_create
from ledger.services.holds import hold_reserve
from partners.models import Mode, Partner


def pending(partner: Partner, account: Account, amount_minor: int = 1_000) -> Transaction:
    return transaction_create(
        partner=partner,
        mode=Mode.LIVE,
        kind="cash_in",
        provider="wave",
        money=Money(amount_minor, "XOF"),
        client_reference=f"hold-{amount_minor}-{Transaction.objects.count()}",
        hold_account=account,
    )


def held(account: Account) -> tuple[int, int]:
    account.refresh_from_db()
    return account.balance_minor, account.held_minor


def test_a_refused_reserve_changes_nothing_and_leaves_the_callers_transaction_usable(live_account: Account) -> None:
    with db_transaction.atomic():
        with pytest.raises(InsufficientFunds):
            hold_reserve(account=live_account, amount_minor=100_001)
        hold_reserve(account=live_account, amount_minor=100_000)  # the same transaction goes on
    assert held(live_account) == (100_000, 100_000)


def test_a_reserve_counts_the_overdraft_and_refuses_a_system_account(live_account: Account) -> None:
    Account.objects.filter(pk=live_account.pk).update(overdraft_limit_minor=500)
    hold_reserve(account=live_account, amount_minor=100_500)
    with pytest.raises(InsufficientFunds):
        hold_reserve(account=live_account, amount_minor=1)
    assert held(live_account) == (100_000, 100_500)
    fees = Account.objects.create(kind="fees", mode=Mode.LIVE, currency="XOF", balance_minor=10**9)
    with pytest.raises(InsufficientFunds):  # holds are for partner accounts only, whatever their balance
        hold_reserve(account=fees, amount_minor=1)
    assert held(fees) == (10**9, 0)


def test_the_claim_moves_and_reads_the_hold_in_one_statement(partner: Partner, live_account: Account) -> None:
    transaction = pending(partner, live_account)

    with CaptureQueriesContext(connection) as context:
        hold = hold_release(transaction=transaction)

    statements = [query["sql"].split()[0] for query in context.captured_queries]
    assert "SELECT" not in statements  # no read before or after the conditional update
    assert sum(query["sql"].lstrip().startswith("UPDATE ledger_hold") for query in context.captured_queries) == 1
    assert (hold.status, hold.transaction_id, hold.amount_minor) == ("released", transaction.pk, 1_000)
    assert Hold.objects.get(pk=hold.pk).status == "released"
    assert held(live_account) == (100_000, 0)


def test_a_second_claim_moves_nothing_and_the_other_claim_is_refused(partner: Partner, live_account: Account) -> None:
    transaction = pending(partner, live_account)
    hold_capture(transaction=transaction)

    assert hold_capture(transaction=transaction).status == "captured"
    with pytest.raises(Conflict):
        hold_release(transaction=transaction)
    assert held(live_account) == (99_000, 0)
