"""Asking staff to look at a transaction, and setting aside one that automatic work chokes on.

A review flag is not a status change: no event, no money moves, and pollers keep working on a
merely flagged transaction. A transaction *set aside* is one whose automatic processing failed
unexpectedly (a bug, data the code cannot handle): pollers, sweepers and chunk workers skip it
from then on — it would only fail again — until staff resolve it. ``item_guard`` is how every
loop over many items keeps one bad item from stopping the others (docs/conventions.md §36).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.utils import timezone

from core.logging import bound_context
from ledger.models import Transaction

logger = logging.getLogger("ledger.review")

REASON_LENGTH = 200


def transaction_flag_for_review(
    *, transaction_pk: int, only_statuses: Iterable[str] | None = None, reason: str = ""
) -> bool:
    """Ask staff to look at a transaction (unresolved too long, retries exhausted…).

    With ``only_statuses`` the flag is set only while the transaction is in one of them.
    Returns whether a row was flagged now.
    """
    rows = Transaction.objects.filter(pk=transaction_pk, needs_review=False)
    if only_statuses is not None:
        rows = rows.filter(status__in=list(only_statuses))
    return rows.update(needs_review=True, review_reason=reason[:REASON_LENGTH]) == 1


def transaction_set_aside(*, transaction_pk: int, reason: str) -> bool:
    """Take a transaction out of automatic processing and ask staff to look; True if done now."""
    changed = Transaction.objects.filter(pk=transaction_pk, set_aside_at__isnull=True).update(
        set_aside_at=timezone.now(), needs_review=True, review_reason=reason[:REASON_LENGTH]
    )
    return changed == 1


def transaction_review_close(*, transaction_pk: int, note: str) -> bool:
    """Staff have resolved what the flag asked them to look at: the transaction leaves the queue.

    The reason is kept, prefixed by ``note``, so the page still says why it was there. Returns
    whether a flag was lowered now.
    """
    transaction = Transaction.objects.filter(pk=transaction_pk, needs_review=True).first()
    if transaction is None:
        return False
    closed = f"{note}: {transaction.review_reason}" if transaction.review_reason else note
    rows = Transaction.objects.filter(pk=transaction_pk, needs_review=True)
    return rows.update(needs_review=False, review_reason=closed[:REASON_LENGTH]) == 1


@contextmanager
def item_guard(*, work: str, transaction: Transaction | None, item: str = "") -> Iterator[None]:
    """Run one item of a loop: an unexpected error is logged with the item's ids, the item's
    transaction is set aside for review, and the loop goes on with the next item.

    Anticipated failures are handled inside the work itself; this guard is for the rest, so
    it catches every ``Exception`` on purpose (never ``BaseException``: a worker being stopped
    must still stop).
    """
    public_id = transaction.public_id if transaction is not None else None
    with bound_context(transaction=public_id):
        try:
            yield
        except Exception as exc:
            reason = f"{work} failed: {type(exc).__name__}"
            logger.exception(
                "%s failed on %s; set aside for review",
                work,
                public_id or item,
                extra={"transaction": public_id, "item": item, "work": work},
            )
            if transaction is not None:
                transaction_set_aside(transaction_pk=transaction.pk, reason=reason)
