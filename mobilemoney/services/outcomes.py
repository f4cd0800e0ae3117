"""Moving a cash-in's transaction with what the provider said (worker, poller, callback).

Every move is a ``transaction_transition``: an ``IllegalTransition`` means another writer got
there first (or the transaction is already final) and is swallowed: late, duplicate and
out-of-order news never move a terminal state (DESIGN.md §4).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import IllegalTransition, ProviderError
from ledger.models import Transaction
from ledger.services import transaction_flag_for_review, transaction_transition
from mobilemoney.models import CashIn
from mobilemoney.providers.base import CashInResult, OperationStatus

logger = logging.getLogger("mobilemoney.outcomes")

IN_FLIGHT = ("processing", "unknown")


def move(transaction: Transaction, to_status: str, *, cause: str, **changes: object) -> bool:
    """Transition, or return False when the state machine says it already moved on."""
    try:
        transaction_transition(transaction=transaction, to_status=to_status, cause=cause, **changes)  # type: ignore[arg-type]
    except IllegalTransition:
        logger.info("already final or moved on", extra={"txn": transaction.public_id, "wanted": to_status})
        return False
    return True


def reach(transaction: Transaction, to_status: str, *, cause: str, **changes: object) -> bool:
    """Like ``move``, passing through ``processing`` when the transaction is still ``pending``
    (a callback can overtake our own worker)."""
    if transaction.status == "pending" and to_status in ("succeeded", "unknown"):
        move(transaction, "processing", cause=cause)
    return move(transaction, to_status, cause=cause, **changes)


def poll_delay_seconds(mode: str, attempts: int) -> float:
    """Exponential backoff of status polls: every few seconds in test mode (DESIGN.md §6)."""
    base = getattr(settings, "MOBILEMONEY_POLL_BASE_SECONDS", 2.0 if mode == "test" else 30.0)
    cap = getattr(settings, "MOBILEMONEY_POLL_MAX_SECONDS", 10.0 if mode == "test" else 1800.0)
    return float(min(base * 2 ** min(attempts, 16), cap))


def review_after(mode: str) -> timedelta:
    """Age past which an unresolved cash-in is flagged for staff (it keeps being polled)."""
    seconds = getattr(settings, "MOBILEMONEY_REVIEW_AFTER_SECONDS", 600 if mode == "test" else 86400)
    return timedelta(seconds=seconds)


def schedule_poll(cash_in: CashIn) -> None:
    delay = poll_delay_seconds(cash_in.transaction.mode, cash_in.poll_attempts)
    cash_in.poll_attempts += 1
    cash_in.next_poll_at = timezone.now() + timedelta(seconds=delay)
    CashIn.objects.filter(pk=cash_in.pk).update(poll_attempts=cash_in.poll_attempts, next_poll_at=cash_in.next_poll_at)


def stop_polling(cash_in: CashIn) -> None:
    CashIn.objects.filter(pk=cash_in.pk).update(next_poll_at=None)


def apply_result(cash_in: CashIn, result: CashInResult, *, cause: str) -> None:
    """Apply the provider's view of a cash-in to its transaction."""
    transaction = cash_in.transaction
    if result.provider_reference and result.provider_reference != cash_in.provider_reference:
        cash_in.provider_reference = result.provider_reference
        CashIn.objects.filter(pk=cash_in.pk).update(provider_reference=result.provider_reference)
    changes = {"provider_reference": result.provider_reference} if result.provider_reference else {}
    if result.status is OperationStatus.SUCCEEDED or (
        result.status is OperationStatus.REVERSED and transaction.status == "succeeded"
    ):
        reach(transaction, "succeeded", cause=cause, **changes)
        if result.status is OperationStatus.REVERSED:
            move(transaction, "reversed", cause=cause)
        stop_polling(cash_in)
    elif result.status in (OperationStatus.FAILED, OperationStatus.REVERSED):
        move(
            transaction,
            "failed",
            cause=cause,
            failure_code=result.failure_code or "provider_rejected",
            failure_message=result.failure_message or "",
            **changes,
        )
        stop_polling(cash_in)
    else:  # still processing at the provider: ask again later
        schedule_poll(cash_in)


def apply_rejection(cash_in: CashIn, error: ProviderError, *, cause: str) -> None:
    move(cash_in.transaction, "failed", cause=cause, failure_code=str(error.code), failure_message=error.message)
    stop_polling(cash_in)


def apply_unknown(cash_in: CashIn, error: ProviderError, *, cause: str) -> None:
    """The answer was lost: ``unknown`` (never ``failed``), resolved by the poller."""
    if cash_in.transaction.status == "processing":
        move(cash_in.transaction, "unknown", cause=cause, detail={"error": error.message})
    schedule_poll(cash_in)


def flag_if_too_old(cash_in: CashIn) -> None:
    transaction = cash_in.transaction
    if not transaction.needs_review and timezone.now() - transaction.created_at > review_after(transaction.mode):
        # A flag for staff, not a status change: the poller keeps asking the provider.
        transaction_flag_for_review(transaction_pk=transaction.pk)
        transaction.needs_review = True
        logger.warning("cash-in unresolved past the review age", extra={"txn": transaction.public_id})
