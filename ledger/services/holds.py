"""Holds: money of a partner account reserved at acceptance, captured on success, released otherwise.

A hold changes ``held_minor`` only (no entry: nothing has moved yet). Capture is a balanced
posting (the partner's balance and held money go down together; the provider float and the
fees account receive the counter-entries). Capture and release are exactly-once: each is a
conditional ``UPDATE … WHERE status='placed'`` of the ``Hold`` row, and only the caller that
changed the row moves money. Repeating the same call is a no-op; the other one is refused.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, InsufficientFunds
from ledger.models import Account, AccountKind, Hold, HoldStatus, Transaction
from ledger.services.accounts import account_get_or_create_system
from ledger.services.postings import post_lines


def _check_hold_account(account: Account, transaction: Transaction, amount_minor: int) -> None:
    if account.kind != AccountKind.PARTNER:
        raise ValueError("Holds are placed on partner accounts only.")
    if (account.partner_id, account.mode, account.currency) != (
        transaction.partner_id,
        transaction.mode,
        transaction.currency,
    ):
        raise ValueError("The hold account must be the transaction's partner's, in its mode and currency.")
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise ValueError("A hold is a positive integer amount.")


# Raise held money only where the available balance plus overdraft covers it: the WHERE clause
# is the funds check, the row lock of the UPDATE serialises concurrent holds on the account, the
# table's CHECK constraint is the backstop. Plain SQL: the ORM spent about 0.4 ms of Python
# compiling this one UPDATE, on every acceptance (docs/performance.md §2).
_RESERVE_SQL = """
UPDATE ledger_account SET held_minor = held_minor + %(amount)s, updated_at = %(now)s
WHERE id = %(account_id)s AND kind = %(partner_kind)s
  AND balance_minor >= held_minor - overdraft_limit_minor + %(amount)s
"""


def hold_reserve(*, account: Account, amount_minor: int) -> None:
    """Raise ``held_minor`` in one conditional UPDATE, only if available + overdraft covers it
    (``InsufficientFunds`` otherwise, and nothing changed)."""
    params: dict[str, Any] = {
        "amount": amount_minor,
        "now": timezone.now(),
        "account_id": account.pk,
        "partner_kind": AccountKind.PARTNER.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_SQL, params)
        changed = cursor.rowcount
    if changed != 1:
        raise InsufficientFunds("The account's available balance does not cover this amount.")


def hold_place(*, account: Account, amount_minor: int, transaction: Transaction) -> Hold:
    """Reserve ``amount_minor`` of ``account`` for ``transaction`` (``InsufficientFunds`` if it can't)."""
    _check_hold_account(account, transaction, amount_minor)
    with db_transaction.atomic():
        hold_reserve(account=account, amount_minor=amount_minor)
        return Hold.objects.create(
            transaction=transaction, account=account, amount_minor=amount_minor, currency=account.currency
        )


# Move a hold out of ``placed`` and read it back in the same statement.
_CLAIM_SQL = """
UPDATE ledger_hold SET status = %(to_status)s, updated_at = %(now)s
WHERE transaction_id = %(transaction_id)s AND status = %(placed)s RETURNING *
"""


def _claim(transaction: Transaction, to_status: str) -> tuple[Hold, bool]:
    """Move the transaction's hold from placed to ``to_status``; (hold, True) only for the mover.

    One conditional UPDATE … RETURNING: the common case (the hold is placed) costs one statement
    instead of a read, the update and a read back; a hold already moved is read to say why.
    """
    params = {
        "to_status": to_status,
        "now": timezone.now(),
        "transaction_id": transaction.pk,
        "placed": HoldStatus.PLACED.value,
    }
    moved = list(Hold.objects.raw(_CLAIM_SQL, params))
    if moved:
        return moved[0], True
    hold = Hold.objects.get(transaction=transaction)
    if hold.status == to_status:
        return hold, False
    raise Conflict(f"The hold of {transaction.public_id} is already {hold.status}.")


def hold_capture(*, transaction: Transaction) -> Hold:
    """Settle the hold: partner -(amount+fee), provider float +amount, fees +fee, held -(amount+fee)."""
    with db_transaction.atomic():
        hold, moved = _claim(transaction, HoldStatus.CAPTURED)
        if not moved:
            return hold
        if hold.amount_minor != transaction.amount_minor + transaction.fee_minor:
            raise ValueError("The hold does not match the transaction's amount plus fee.")
        book = {"mode": transaction.mode, "currency": transaction.currency}
        float_account = account_get_or_create_system(
            kind=AccountKind.PROVIDER_FLOAT, provider=transaction.provider, **book
        )
        lines = [(hold.account, -hold.amount_minor), (float_account, transaction.amount_minor)]
        if transaction.fee_minor:
            lines.append((account_get_or_create_system(kind=AccountKind.FEES, **book), transaction.fee_minor))
        post_lines(
            lines=lines,
            description=f"capture {transaction.public_id}",
            transaction=transaction,
            held_deltas={hold.account_id: -hold.amount_minor},
        )
    return hold


def hold_release(*, transaction: Transaction) -> Hold:
    """Give the held money back to the partner's available balance (no entry: nothing moved)."""
    with db_transaction.atomic():
        hold, moved = _claim(transaction, HoldStatus.RELEASED)
        if moved:
            Account.objects.filter(pk=hold.account_id).update(
                held_minor=F("held_minor") - hold.amount_minor, updated_at=timezone.now()
            )
    return hold
