"""Accounts, balanced postings, the append-only entries and ledger_check."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection
from django.db import transaction as db_transaction

from core.errors import BusinessRuleViolation, ErrorCode, InsufficientFunds
from core.money import MoneyError
from ledger.models import Account, AccountKind, LedgerEntry, Posting, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import (
    UnbalancedPosting,
    account_fund,
    account_get_or_create_partner_account,
    account_get_or_create_system,
    account_set_overdraft_limit,
    posting_create,
)
from partners.models import Mode, Partner
from tests.ledger.conftest import counts

TOP_UP = 1_000_000_000


def test_a_test_mode_account_starts_with_a_balanced_sandbox_top_up(partner: Partner) -> None:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")

    account.refresh_from_db()
    assert (account.balance_minor, account.held_minor, account.available_minor) == (TOP_UP, 0, TOP_UP)
    assert account.public_id.startswith("acc_")
    posting = Posting.objects.get()
    assert posting.description == "sandbox top-up"
    lines = {(e.account.kind, e.account.provider, e.amount_minor, e.balance_after_minor) for e in posting.entries.all()}
    assert lines == {("partner", "", TOP_UP, TOP_UP), ("external", "sandbox", -TOP_UP, -TOP_UP)}
    assert ledger_check().is_ok


def test_the_top_up_happens_once(partner: Partner) -> None:
    first = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    second = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    assert first.pk == second.pk
    assert Posting.objects.count() == 1 and Account.objects.filter(kind="partner").count() == 1


def test_each_test_partner_gets_its_own_top_up_from_one_funding_account(
    partner: Partner, other_partner: Partner
) -> None:
    account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    account_get_or_create_partner_account(partner=other_partner, mode=Mode.TEST, currency="XOF")
    funding = Account.objects.get(kind="external", provider="sandbox")
    assert funding.balance_minor == -2 * TOP_UP
    assert ledger_check().is_ok


def test_a_live_account_starts_empty_and_test_and_live_are_separate_books(partner: Partner) -> None:
    live = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    test = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    assert live.pk != test.pk
    live.refresh_from_db()
    assert (live.balance_minor, live.held_minor) == (0, 0)
    assert not LedgerEntry.objects.filter(account=live).exists()


def test_a_test_account_in_euros_gets_a_billion_euros(partner: Partner) -> None:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="EUR")
    account.refresh_from_db()
    assert account.balance_minor == TOP_UP * 100


def test_unknown_currencies_are_refused(partner: Partner) -> None:
    with pytest.raises(MoneyError) as caught:
        account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="BTC")
    assert caught.value.code == ErrorCode.UNSUPPORTED_CURRENCY
    assert not Account.objects.exists()


def test_one_system_account_per_book_even_without_a_partner(db: None) -> None:
    fees = account_get_or_create_system(kind=AccountKind.FEES, mode=Mode.LIVE, currency="XOF")
    assert account_get_or_create_system(kind=AccountKind.FEES, mode=Mode.LIVE, currency="XOF").pk == fees.pk
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Account.objects.create(kind=AccountKind.FEES, mode=Mode.LIVE, currency="XOF")


def test_a_partner_account_must_have_a_partner_and_system_accounts_must_not(partner: Partner) -> None:
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Account.objects.create(kind=AccountKind.PARTNER, mode=Mode.LIVE, currency="XOF")
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Account.objects.create(kind=AccountKind.FEES, partner=partner, mode=Mode.LIVE, currency="XOF")


def test_the_database_keeps_available_within_the_overdraft_limit(live_account: Account) -> None:
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Account.objects.filter(pk=live_account.pk).update(balance_minor=-1)
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Account.objects.filter(pk=live_account.pk).update(held_minor=100_001)
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Account.objects.filter(pk=live_account.pk).update(held_minor=-1)
    Account.objects.filter(pk=live_account.pk).update(overdraft_limit_minor=5, balance_minor=-5)  # at the limit


# --- postings -----------------------------------------------------------------------------


def test_a_balanced_posting_moves_balances_and_writes_entries(live_account: Account) -> None:
    suspense = account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF")
    posting = posting_create(lines=[(live_account, -300), (suspense, 200), (suspense, 100)], description="move")

    live_account.refresh_from_db()
    suspense.refresh_from_db()
    assert (live_account.balance_minor, suspense.balance_minor) == (99_700, 300)
    entries = list(posting.entries.order_by("id").values_list("amount_minor", "balance_after_minor"))
    assert entries == [(-300, 99_700), (200, 200), (100, 300)]
    assert ledger_check().is_ok


@pytest.mark.parametrize(
    "amounts",
    [[-300, 200], [100], [0, 0], [-1, 1, 1]],
    ids=["unbalanced", "one line", "zero lines", "three unbalanced"],
)
def test_unbalanced_postings_are_refused_and_write_nothing(live_account: Account, amounts: list[int]) -> None:
    suspense = account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF")
    accounts = [live_account, suspense, suspense]
    before = counts()
    with pytest.raises(UnbalancedPosting):
        posting_create(lines=list(zip(accounts, amounts, strict=False)), description="bad")
    assert counts() == before


def test_balance_is_per_currency(partner: Partner, live_account: Account) -> None:
    eur = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="EUR")
    with pytest.raises(UnbalancedPosting):
        posting_create(lines=[(live_account, -100), (eur, 100)], description="no fx here")


def test_test_and_live_money_never_share_a_posting(partner: Partner, live_account: Account) -> None:
    test_account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    before = counts()
    with pytest.raises(UnbalancedPosting):
        posting_create(lines=[(test_account, -100), (live_account, 100)], description="leak")
    assert counts() == before


def test_a_debit_beyond_available_is_insufficient_funds(live_account: Account) -> None:
    suspense = account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF")
    before = counts()
    with pytest.raises(InsufficientFunds) as caught:
        posting_create(lines=[(live_account, -100_001), (suspense, 100_001)], description="too much")
    assert (caught.value.status, caught.value.code) == (422, ErrorCode.INSUFFICIENT_FUNDS)
    assert counts() == before
    live_account.refresh_from_db()
    assert live_account.balance_minor == 100_000


def test_the_overdraft_limit_extends_what_may_be_debited(live_account: Account) -> None:
    suspense = account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF")
    account_set_overdraft_limit(account=live_account, limit_minor=500)
    posting_create(lines=[(live_account, -100_500), (suspense, 100_500)], description="into overdraft")
    live_account.refresh_from_db()
    assert live_account.balance_minor == -500
    with pytest.raises(InsufficientFunds):
        posting_create(lines=[(live_account, -1), (suspense, 1)], description="beyond")
    with pytest.raises(BusinessRuleViolation):
        account_set_overdraft_limit(account=live_account, limit_minor=499)
    live_account.refresh_from_db()
    assert live_account.overdraft_limit_minor == 500


def test_account_fund_books_a_top_up_against_the_bank_external_account(live_account: Account) -> None:
    bank = Account.objects.get(kind="external", provider="bank", mode="live")
    assert (live_account.balance_minor, bank.balance_minor) == (100_000, -100_000)


# --- append-only --------------------------------------------------------------------------


def test_the_database_refuses_update_of_ledger_entries(live_account: Account) -> None:
    entry = LedgerEntry.objects.filter(account=live_account).first()
    assert entry is not None
    with pytest.raises(DatabaseError, match="append-only"), db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerentry SET amount_minor = amount_minor + 1 WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"), db_transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(balance_after_minor=0)
    assert LedgerEntry.objects.get(pk=entry.pk).amount_minor == entry.amount_minor


def test_the_database_refuses_delete_of_ledger_entries(live_account: Account) -> None:
    before = LedgerEntry.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_ledgerentry")
    assert LedgerEntry.objects.count() == before


def test_the_database_refuses_to_rewrite_transaction_history(create_outgoing) -> None:  # type: ignore[no-untyped-def]
    create_outgoing()
    with pytest.raises(DatabaseError, match="append-only"), db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_transactionevent SET to_status = 'succeeded'")
    with pytest.raises(DatabaseError, match="append-only"), db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transactionevent")
    assert TransactionEvent.objects.get().to_status == "pending"


# --- ledger_check -------------------------------------------------------------------------


def test_ledger_check_passes_on_healthy_books(live_account: Account) -> None:
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert out.getvalue().startswith("ledger OK: 1 postings, 2 entries, 2 accounts")


def _break_with_trigger_off(sql: str, params: list[int]) -> None:
    """Simulate tampering by someone with the power to disable the trigger (a DBA, a restore)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # user triggers off (superuser only)
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_ledger_check_lists_a_balance_that_disagrees_with_its_entries(live_account: Account) -> None:
    Account.objects.filter(pk=live_account.pk).update(balance_minor=99_999)
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("ledger_check", stderr=err)
    assert caught.value.returncode == 1
    assert f"account {live_account.public_id} balance 99999 != sum of entries 100000" in err.getvalue()


def test_ledger_check_lists_an_unbalanced_posting_and_currency(live_account: Account) -> None:
    entry = LedgerEntry.objects.get(account=live_account)
    _break_with_trigger_off("UPDATE ledger_ledgerentry SET amount_minor = 100001 WHERE id = %s", [entry.pk])
    problems = ledger_check().problems
    assert f"posting {entry.posting_id} sums to 1 XOF" in problems
    assert "all entries in XOF sum to 1" in problems
    assert f"entry {entry.pk} balance_after 100000 != running sum 100001" in problems
    assert any(problem.startswith(f"account {live_account.public_id} balance") for problem in problems)


def test_ledger_check_lists_held_money_without_holds(live_account: Account) -> None:
    Account.objects.filter(pk=live_account.pk).update(held_minor=10)
    assert ledger_check().problems == [f"account {live_account.public_id} held 10 != placed holds 0"]


def test_ledger_fund_refuses_system_accounts(db: None) -> None:
    fees = account_get_or_create_system(kind=AccountKind.FEES, mode=Mode.LIVE, currency="XOF")
    with pytest.raises(ValueError):
        account_fund(account=fees, amount_minor=10, description="x")
