"""A posting is one SQL statement (ledger/services/postings.py): what that must keep.

The statement locks, checks and writes at once, with no transaction or savepoint of its own; so
these tests pin what the ORM version gave for free: a refusal writes nothing and leaves the
caller's transaction usable, lines on the same account chain their running balances, accounts are
locked in one order whatever the order of the lines (no deadlock), and the caller's objects and
the returned posting show what was written.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import InsufficientFunds
from ledger.models import Account, AccountKind, LedgerEntry, Posting
from ledger.selectors import ledger_check
from ledger.services import account_fund, account_get_or_create_partner_account, account_get_or_create_system
from ledger.services.postings import NewPosting, UnbalancedPosting, post_lines, posting_create, postings_write
from partners.models import Mode
from tests.ledger.conftest import counts, make_partner
from tests.ledger.test_concurrency import DEBITS, race


def suspense(name: str = "") -> Account:
    return account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF", provider=name)


def test_a_posting_is_one_statement_without_transaction_or_savepoint(live_account: Account) -> None:
    other = suspense()
    with CaptureQueriesContext(connection) as outermost:  # the test's own transaction is the caller's
        posting_create(lines=[(live_account, -10), (other, 10)], description="one statement")
    assert len(outermost.captured_queries) == 1
    assert "ledger_post(" in outermost.captured_queries[0]["sql"]  # the statement, kept as a function


def test_the_returned_posting_and_the_callers_objects_show_what_was_written(live_account: Account) -> None:
    other = suspense()
    posting = posting_create(lines=[(live_account, -250), (other, 250)], description="x" * 300)

    stored = Posting.objects.get(pk=posting.pk)
    assert (posting.description, posting.transaction_id, posting.created_at) == (
        stored.description,
        None,
        stored.created_at,
    )
    assert len(stored.description) == 200
    assert posting._state.adding is False
    assert [(e.account_id, e.amount_minor) for e in posting.entries.order_by("id")] == [
        (live_account.pk, -250),
        (other.pk, 250),
    ]
    assert (live_account.balance_minor, other.balance_minor) == (99_750, 250)
    live_account.refresh_from_db()
    assert live_account.balance_minor == 99_750


def test_lines_on_one_account_chain_their_running_balances(live_account: Account) -> None:
    first, second = suspense("one"), suspense("two")
    posting = posting_create(
        lines=[(live_account, -500), (first, 500), (live_account, 200), (first, -300), (second, 100)],
        description="interleaved",
    )
    entries = list(posting.entries.order_by("id").values_list("account_id", "amount_minor", "balance_after_minor"))
    assert entries == [
        (live_account.pk, -500, 99_500),
        (first.pk, 500, 500),
        (live_account.pk, 200, 99_700),
        (first.pk, -300, 200),
        (second.pk, 100, 100),
    ]
    assert (live_account.balance_minor, first.balance_minor, second.balance_minor) == (99_700, 200, 100)
    assert ledger_check().is_ok


def test_a_refusal_writes_nothing_and_leaves_the_callers_transaction_usable(live_account: Account) -> None:
    other = suspense()
    before = counts()
    with db_transaction.atomic():
        with pytest.raises(InsufficientFunds):
            posting_create(lines=[(live_account, -100_001), (other, 100_001)], description="too much")
        assert counts() == before
        posting_create(lines=[(live_account, -100_000), (other, 100_000)], description="all of it")  # goes on
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (0, 0)
    assert Posting.objects.filter(description="too much").count() == 0
    assert ledger_check().is_ok


def test_held_money_is_not_available_and_the_overdraft_is(live_account: Account) -> None:
    other = suspense()
    Account.objects.filter(pk=live_account.pk).update(held_minor=40_000, overdraft_limit_minor=1_000)
    before = counts()
    with pytest.raises(InsufficientFunds):
        posting_create(lines=[(live_account, -61_001), (other, 61_001)], description="beyond available")
    assert counts() == before
    posting_create(lines=[(live_account, -61_000), (other, 61_000)], description="to the overdraft limit")
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (39_000, 40_000)


def test_a_partner_credit_is_never_refused_and_system_books_may_go_negative(live_account: Account) -> None:
    other = suspense()
    posting_create(lines=[(other, -5_000_000), (live_account, 5_000_000)], description="credit")
    assert (other.balance_minor, live_account.balance_minor) == (-5_000_000, 5_100_000)


def test_held_deltas_move_held_money_with_the_entries(live_account: Account) -> None:
    other = suspense()
    Account.objects.filter(pk=live_account.pk).update(held_minor=700)
    post_lines(lines=[(live_account, -700), (other, 700)], description="capture", held_deltas={live_account.pk: -700})
    assert (live_account.balance_minor, live_account.held_minor) == (99_300, 0)  # the caller's object
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (99_300, 0)


def test_a_missing_account_is_refused_and_nothing_is_written(live_account: Account) -> None:
    ghost = Account(pk=10**12, kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF")
    before = counts()
    with pytest.raises(Account.DoesNotExist):
        posting_create(lines=[(live_account, -1), (ghost, 1)], description="to nowhere")
    assert counts() == before
    live_account.refresh_from_db()
    assert live_account.balance_minor == 100_000


@pytest.mark.django_db(transaction=True)
def test_postings_in_opposite_directions_never_deadlock_and_stay_exact() -> None:
    """Half the postings go A→B with A's line first, half B→A with B's line first, from racing
    threads: the statement locks in id order whatever the lines say, so PostgreSQL never detects
    a deadlock (it would raise in a thread, and ``race`` would count fewer outcomes)."""
    first, second = (
        account_get_or_create_partner_account(partner=make_partner(), mode=Mode.LIVE, currency="XOF") for _ in range(2)
    )
    for account in (first, second):
        account_fund(account=account, amount_minor=1_000_000, description="funds")
    turns = itertools.count()

    def swap() -> None:
        source, target = (first.pk, second.pk) if next(turns) % 2 else (second.pk, first.pk)
        mine = Account.objects.in_bulk([source, target])  # each call its own objects, as each request would
        posting_create(lines=[(mine[source], -7), (mine[target], 7)], description="swap")

    assert race(swap) == Counter({"ok": DEBITS})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.balance_minor, second.balance_minor) == (1_000_000, 1_000_000)  # as much each way
    assert LedgerEntry.objects.filter(posting__description="swap").count() == 2 * DEBITS
    assert ledger_check().is_ok


def test_several_postings_in_one_call_each_with_its_lines_and_running_balances(live_account: Account) -> None:
    """``postings_write`` (a provider batch's captures): one statement, each posting its own row
    with its own lines, in the order given, the running balances chained across them."""
    first, second = suspense("many-1"), suspense("many-2")
    now = timezone.now()
    postings = [
        NewPosting([(live_account.pk, -100), (first.pk, 100)], "first"),
        NewPosting([(live_account.pk, -50), (second.pk, 50)], "second"),
        NewPosting([(first.pk, -30), (live_account.pk, 30)], "third"),
    ]
    with CaptureQueriesContext(connection) as captured:
        written = postings_write(postings, held_deltas={}, now=now)
    assert len(captured.captured_queries) == 1
    assert written.posting_ids == sorted(written.posting_ids) and len(set(written.posting_ids)) == 3
    rows = {
        posting.description: [
            (e.account_id, e.amount_minor, e.balance_after_minor) for e in posting.entries.order_by("id")
        ]
        for posting in Posting.objects.filter(pk__in=written.posting_ids)
    }
    assert rows == {
        "first": [(live_account.pk, -100, 99_900), (first.pk, 100, 100)],
        "second": [(live_account.pk, -50, 99_850), (second.pk, 50, 50)],
        "third": [(first.pk, -30, 70), (live_account.pk, 30, 99_880)],
    }
    assert written.balances[live_account.pk] == (99_880, 0)
    assert ledger_check().is_ok


def test_several_postings_refused_together_write_nothing(live_account: Account) -> None:
    other = suspense("many-refused")
    before = counts()
    postings = [
        NewPosting([(live_account.pk, -60_000), (other.pk, 60_000)], "fits alone"),
        NewPosting([(live_account.pk, -60_000), (other.pk, 60_000)], "not with the first"),
    ]
    with pytest.raises(InsufficientFunds):
        postings_write(postings, held_deltas={}, now=timezone.now())
    assert counts() == before
    live_account.refresh_from_db()
    assert live_account.balance_minor == 100_000
    with pytest.raises(UnbalancedPosting):
        postings_write([NewPosting([(live_account.pk, -1), (other.pk, 2)], "off")], held_deltas={}, now=timezone.now())
