"""Balanced postings: entries and balance columns written together under row locks.

Every movement of money is a ``Posting`` whose signed lines sum to zero per currency. The
accounts it touches are locked first, always in primary-key order (``accounts_lock``, the one
helper that locks accounts), so two postings over the same accounts queue instead of
deadlocking. Entries and the new balance columns are written in the same DB transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction as db_transaction
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


def _check_limits(locked: Mapping[int, Account], deltas: Mapping[int, int], held_deltas: Mapping[int, int]) -> None:
    for pk, account in locked.items():
        if account.kind != AccountKind.PARTNER or deltas.get(pk, 0) >= 0:
            continue
        available = account.balance_minor + deltas[pk] - (account.held_minor + held_deltas.get(pk, 0))
        if available < -account.overdraft_limit_minor:
            raise InsufficientFunds("The account's available balance does not cover this amount.")


def _entries(posting: Posting, lines: Sequence[Line], running: dict[int, int]) -> list[LedgerEntry]:
    """One entry per line, each with the account's balance after it; ``running`` ends at the new balances."""
    entries = []
    for account, amount_minor in lines:
        running[account.pk] += amount_minor
        entries.append(
            LedgerEntry(
                posting=posting,
                account_id=account.pk,
                transaction=posting.transaction,
                amount_minor=amount_minor,
                currency=account.currency,
                balance_after_minor=running[account.pk],
            )
        )
    return entries


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
    held_deltas = dict(held_deltas or {})
    deltas: dict[int, int] = defaultdict(int)
    for account, amount_minor in lines:
        deltas[account.pk] += amount_minor
    with db_transaction.atomic():
        locked = accounts_lock([*deltas, *held_deltas])
        _check_limits(locked, deltas, held_deltas)
        posting = Posting.objects.create(transaction=transaction, description=description[:200])
        running = {pk: account.balance_minor for pk, account in locked.items()}
        LedgerEntry.objects.bulk_create(_entries(posting, lines, running))
        now = timezone.now()
        for pk, account in locked.items():
            account.balance_minor = running[pk]
            account.held_minor += held_deltas.get(pk, 0)
            account.updated_at = now
        Account.objects.bulk_update(locked.values(), ["balance_minor", "held_minor", "updated_at"])
    for account, _ in lines:  # the caller's objects now show what was written
        account.balance_minor = locked[account.pk].balance_minor
        account.held_minor = locked[account.pk].held_minor
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
