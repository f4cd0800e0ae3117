"""Balanced postings: entries and balance columns written together under row locks.

Every movement of money is a ``Posting`` whose signed lines sum to zero per currency. The
accounts it touches are locked first, always in primary-key order, so two postings over the same
accounts queue instead of deadlocking. Entries and the new balance columns are written in the
same DB transaction.

A posting is ONE SQL statement (``_POST_SQL``), so it is atomic by itself and needs neither a
transaction of its own nor a savepoint inside the caller's: it locks the accounts
(``SELECT … ORDER BY id FOR UPDATE``, as ``accounts_lock`` does), checks the funds on the locked
rows, and only then updates the balances and inserts the posting and its entries, each entry with
its account's running balance. A refused posting (funds, a missing account) writes nothing and
leaves the caller's transaction usable. The ORM version took five round trips and about three
quarters of its time compiling SQL in Python (docs/performance.md, P3). The statement itself is
the database function ``ledger_post`` (ledger/migrations/0010_ledger_post_many.py), so that
PostgreSQL plans it once per connection instead of at every posting (half its CPU per posting).
Several postings can share one call (``postings_write``: a provider batch's hold captures).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.errors import InsufficientFunds
from ledger.models import Account, AccountKind, LedgerEntry, Posting, Transaction

Line = tuple[Account, int]


class UnbalancedPosting(ValueError):
    """A posting whose lines do not sum to zero per currency (a bug in the caller)."""


def accounts_lock(pks: Iterable[int]) -> dict[int, Account]:
    """Lock accounts ``SELECT … FOR UPDATE`` in primary-key order and return them fresh by pk."""
    locked = Account.objects.filter(pk__in=set(pks)).order_by("pk").select_for_update()
    return {account.pk: account for account in locked}


def _validate_lines(lines: Sequence[Line]) -> None:
    if len(lines) < 2:
        raise UnbalancedPosting("A posting needs at least two lines.")
    totals: dict[str, int] = defaultdict(int)
    for account, amount_minor in lines:
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor == 0:
            raise UnbalancedPosting(f"Line amounts are non-zero integers, not {amount_minor!r}.")
        if account.pk is None:
            raise UnbalancedPosting("Post to saved accounts only.")
        totals[account.currency] += amount_minor
    if len({account.mode for account, _ in lines}) != 1:
        raise UnbalancedPosting("Test and live money never share a posting.")
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedPosting(f"Lines must sum to zero per currency; they sum to {unbalanced}.")


# The posting statement, a database function (ledger/migrations/0010_ledger_post_many.py): one
# posting or several. ``change`` is each account's net change (its balance, its held money);
# ``locked`` takes the row locks in id order and reads the balances as they are once locked (READ
# COMMITTED re-reads a row that changed while we waited); ``verdict`` says whether every account
# exists and every partner debit fits its available balance and overdraft (the table's CHECK
# constraint is the backstop); the writes run only when it says yes, so a refusal writes nothing.
# Each posting's id is taken from the sequence first, so that its lines (which name their posting
# by position) find it; entries are inserted in line order (their ids give the running balance's
# order, ``ledger_check``). PostgreSQL keeps the function's plan for the session instead of parsing
# and planning the statement at every call. A migration that renames or retypes a column it names
# replaces the function in the same step.
_POST_SQL = """
SELECT * FROM ledger_post(
    p_account_ids => %(account_ids)s::bigint[], p_deltas => %(deltas)s::bigint[],
    p_held_deltas => %(held_deltas)s::bigint[], p_partner_kind => %(partner_kind)s::text,
    p_now => %(now)s::timestamptz,
    p_posting_transactions => %(posting_transactions)s::bigint[],
    p_posting_descriptions => %(posting_descriptions)s::text[],
    p_line_postings => %(line_postings)s::bigint[],
    p_line_accounts => %(line_accounts)s::bigint[], p_line_amounts => %(line_amounts)s::bigint[]
)
"""

IdLine = tuple[int, int]  # (account pk, signed amount_minor)


@dataclass(frozen=True)
class NewPosting:
    """One posting for ``postings_write``: its lines by account pk, description and transaction."""

    lines: Sequence[IdLine]
    description: str
    transaction_id: int | None = None


@dataclass(frozen=True)
class Written:
    posting_ids: list[int]  # in the order the postings were given
    balances: dict[int, tuple[int, int]]  # account pk -> (balance_minor, held_minor) as written


def postings_write(postings: Sequence[NewPosting], *, held_deltas: Mapping[int, int], now: datetime) -> Written:
    """Write ``postings`` in ONE statement (``_POST_SQL``); ``held_deltas`` changes the held money
    of accounts locked with them.

    The accounts are locked once, in id order, and the funds check is of each account's NET change
    over all the postings: a caller passing several makes sure that is the check it needs (hold
    captures: each leaves its partner's available balance as it was). ``Account.DoesNotExist``
    when an account is missing, ``InsufficientFunds`` when a partner's debit does not fit; nothing
    is written then. Lines are checked to sum to zero per posting; per currency is the caller's.
    """
    if not postings:
        raise UnbalancedPosting("Nothing to post.")
    deltas: dict[int, int] = defaultdict(int)
    line_postings, line_accounts, line_amounts = [], [], []
    for position, posting in enumerate(postings, start=1):
        if sum(amount for _, amount in posting.lines) != 0 or any(amount == 0 for _, amount in posting.lines):
            raise UnbalancedPosting(f"Posting {posting.description!r} does not balance.")
        for account_id, amount_minor in posting.lines:
            deltas[account_id] += amount_minor
            line_postings.append(position)
            line_accounts.append(account_id)
            line_amounts.append(amount_minor)
    account_ids = sorted({*deltas, *held_deltas})
    params: dict[str, Any] = {
        "account_ids": account_ids,
        "deltas": [deltas.get(pk, 0) for pk in account_ids],
        "held_deltas": [held_deltas.get(pk, 0) for pk in account_ids],
        "partner_kind": AccountKind.PARTNER.value,
        "now": now,
        "posting_transactions": [posting.transaction_id for posting in postings],
        "posting_descriptions": [posting.description[:200] for posting in postings],
        "line_postings": line_postings,
        "line_accounts": line_accounts,
        "line_amounts": line_amounts,
    }
    with connection.cursor() as cursor:
        cursor.execute(_POST_SQL, params)
        rows = cursor.fetchall()
    found, covered, posting_ids = rows[0][:3]
    if not found:
        raise Account.DoesNotExist("A posting names an account that does not exist.")
    if not covered:
        raise InsufficientFunds("The account's available balance does not cover this amount.")
    return Written(list(posting_ids), {pk: (balance_minor, held_minor) for *_, pk, balance_minor, held_minor in rows})


def post_lines(
    *,
    lines: Sequence[Line],
    description: str,
    transaction: Transaction | None = None,
    held_deltas: Mapping[int, int] | None = None,
) -> Posting:
    """Write a balanced posting; optionally change ``held_minor`` of locked accounts with it.

    ``held_deltas`` (account pk → change of held money) lets a hold capture move held money
    and its entries in one step. Debits of a partner account beyond its available balance and
    overdraft limit raise ``InsufficientFunds`` and write nothing.
    """
    _validate_lines(lines)
    posting = Posting(transaction=transaction, description=description[:200], created_at=timezone.now())
    written = postings_write(
        [NewPosting([(account.pk, amount) for account, amount in lines], posting.description, posting.transaction_id)],
        held_deltas=held_deltas or {},
        now=posting.created_at,
    )
    posting.pk = written.posting_ids[0]
    posting._state.adding, posting._state.db = False, connection.alias  # saved, as create() leaves it
    for account, _ in lines:  # the caller's objects now show what was written
        account.balance_minor, account.held_minor = written.balances[account.pk]
    return posting


def posting_create(*, lines: Sequence[Line], description: str, transaction: Transaction | None = None) -> Posting:
    """Post signed ``(account, amount_minor)`` lines that sum to zero per currency.

    Refuses an unbalanced posting (``UnbalancedPosting``) and a partner debit beyond the
    available balance and overdraft limit (``InsufficientFunds``); nothing is written then.
    """
    return post_lines(lines=lines, description=description, transaction=transaction)


def posting_reverse(*, transaction: Transaction, description: str) -> Posting | None:
    """Post the exact opposite of everything posted for ``transaction`` (None if nothing was)."""
    sums = (
        LedgerEntry.objects.filter(transaction=transaction)
        .values("account_id")
        .annotate(total=Sum("amount_minor"))
        .order_by("account_id")
    )
    totals = {row["account_id"]: row["total"] for row in sums if row["total"]}
    if not totals:
        return None
    accounts = Account.objects.in_bulk(list(totals))
    lines = [(accounts[pk], -total) for pk, total in totals.items()]
    return post_lines(lines=lines, description=description, transaction=transaction)
