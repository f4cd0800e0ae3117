"""Carrying out an accepted bill payment at the provider, and resolving unknown outcomes.

Every function here runs outside any DB transaction while it talks to the provider, and is safe
to run twice: the provider is idempotent by our reference (the transaction's public id), and
every state change is a conditional transition (``IllegalTransition`` = someone else already
moved it, swallowed as "already final"). An unknown outcome is only ever resolved by what the
provider says about the reference (DESIGN.md §3.7), never guessed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from core.errors import (
    ErrorCode,
    GatewayError,
    IllegalTransition,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from ledger.models import Transaction
from ledger.services import transaction_flag_for_review, transaction_transition
from ledger.states import Cause, Status
from payments.models import BillPayment
from payments.providers.base import PaymentNotFound, PaymentResult, PaymentStatus
from payments.services.catalog import connector_for
from payments.services.payments import STALE_PROCESSING

logger = logging.getLogger("payments.execution")

FIRST_POLL_AFTER = timedelta(seconds=2)
MAX_POLL_INTERVAL = timedelta(minutes=10)
# Past this age an unresolved payment is flagged for staff; it keeps being polled.
REVIEW_AFTER = timedelta(hours=1)
CLAIMED_POLL_GRACE = timedelta(seconds=30)


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # asked, no final answer yet: the poller will ask again
    RETRY = "retry"  # nothing happened at the provider: send again later with the same reference
    SKIPPED = "skipped"  # claimed or finished by someone else


def _load(bill_payment_id: int) -> BillPayment:
    return BillPayment.objects.select_related("transaction", "transaction__partner", "quote").get(pk=bill_payment_id)


def _move(txn: Transaction, to_status: str, *, cause: str, **changes: Any) -> bool:
    """Transition; False when another writer already moved it (a final state never moves back)."""
    try:
        transaction_transition(transaction=txn, to_status=to_status, cause=cause, **changes)
    except IllegalTransition:
        logger.info("%s already %s; %s not applied", txn.public_id, txn.status, to_status)
        return False
    return True


def _schedule_poll(payment: BillPayment, *, after: timedelta) -> None:
    BillPayment.objects.filter(pk=payment.pk).update(next_poll_at=timezone.now() + after)


def apply_result(payment: BillPayment, result: PaymentResult, *, cause: str, source: str) -> Outcome:
    """Record the provider's answer about our reference: receipt and final state, or poll later."""
    txn = payment.transaction
    if result.status is PaymentStatus.PROCESSING:
        if txn.status == Status.PROCESSING:
            _move(txn, Status.UNKNOWN, cause=cause, detail={"source": source, "provider_status": "processing"})
        _schedule_poll(payment, after=FIRST_POLL_AFTER)
        return Outcome.UNKNOWN
    detail = {"source": source, "provider_payment_id": result.provider_reference}
    with db_transaction.atomic():
        if result.status is PaymentStatus.SUCCEEDED:
            reference = result.provider_reference
            moved = _move(txn, Status.SUCCEEDED, cause=cause, detail=detail, provider_reference=reference)
            receipt = result.receipt
            if moved and receipt is not None:
                BillPayment.objects.filter(pk=payment.pk).update(
                    provider_payment_id=result.provider_reference,
                    receipt_number=receipt.receipt_number,
                    tokens=list(receipt.tokens),
                    kwh=receipt.kwh,
                )
            return Outcome.SUCCEEDED if moved else Outcome.SKIPPED
        moved = _move(
            txn,
            Status.FAILED,
            cause=cause,
            detail={**detail, "provider_failure_code": result.provider_failure_code},
            provider_reference=result.provider_reference,
            failure_code=str(result.failure_code or ErrorCode.PROVIDER_REJECTED),
            failure_message=result.failure_message or "The provider refused the payment.",
        )
        if moved:
            BillPayment.objects.filter(pk=payment.pk).update(provider_payment_id=result.provider_reference)
        return Outcome.FAILED if moved else Outcome.SKIPPED


def _pay(payment: BillPayment, *, cause: str, source: str) -> Outcome:
    """Send the payment (again) under our stable reference and apply what comes back."""
    txn = payment.transaction
    try:
        result = connector_for(payment.mode).pay(quote_id=payment.quote.provider_quote_id, reference=txn.public_id)
    except ProviderOutcomeUnknown as exc:
        if txn.status == Status.PROCESSING:
            _move(txn, Status.UNKNOWN, cause=cause, detail={"source": source, "error": exc.message[:300]})
        _schedule_poll(payment, after=FIRST_POLL_AFTER)
        return Outcome.UNKNOWN
    except ProviderUnavailable:
        return Outcome.RETRY
    except GatewayError:  # the connection is disabled or missing: nothing was sent
        return Outcome.RETRY
    except ProviderRejected as exc:
        return _rejected(payment, exc, cause=cause, source=source)
    return apply_result(payment, result, cause=cause, source=source)


def _rejected(payment: BillPayment, exc: ProviderRejected, *, cause: str, source: str) -> Outcome:
    """A refused request records nothing under our reference: nothing was paid, the payment fails.
    The one exception: the reference is taken by another quote, which only staff can untangle."""
    txn = payment.transaction
    if exc.code is ErrorCode.IDEMPOTENCY_KEY_REUSED:
        if txn.status == Status.PROCESSING:
            _move(txn, Status.UNKNOWN, cause=cause, detail={"source": source}, needs_review=True)
        transaction_flag_for_review(transaction_pk=txn.pk)
        return Outcome.UNKNOWN
    moved = _move(
        txn,
        Status.FAILED,
        cause=cause,
        detail={"source": source, "provider_code": exc.provider_code},
        failure_code=str(exc.code),
        failure_message=exc.message[:500],
    )
    return Outcome.FAILED if moved else Outcome.SKIPPED


def bill_payment_execute(*, bill_payment_id: int, is_retry: bool = False) -> Outcome:
    """The worker's step: claim (pending → processing), pay under our reference, record the outcome.

    A first run that finds the payment already claimed does nothing (a duplicate delivery); a
    retry after ``ProviderUnavailable`` proceeds only while the payment is still ``processing``.
    """
    payment = _load(bill_payment_id)
    txn = payment.transaction
    if not is_retry:
        if not _move(txn, Status.PROCESSING, cause=Cause.WORKER):
            return Outcome.SKIPPED
        _schedule_poll(payment, after=STALE_PROCESSING)
    elif txn.status != Status.PROCESSING:
        return Outcome.SKIPPED
    return _pay(payment, cause=Cause.WORKER, source="pay")


def bill_payment_flag_for_review(*, bill_payment_id: int) -> None:
    """Retries ran out without an answer: staff must look (the poller keeps trying meanwhile)."""
    payment = _load(bill_payment_id)
    Transaction.objects.filter(pk=payment.transaction_id, status__in=[Status.PROCESSING, Status.UNKNOWN]).update(
        needs_review=True
    )


def bill_payment_resolve(*, bill_payment_id: int) -> Outcome:
    """Ask the provider what became of our reference and apply it (the poller's step).

    Not found means nothing was ever recorded under the reference: pay is sent again with the
    same quote and reference (the provider's documented safe reaction), which can pay at most once.
    """
    payment = _load(bill_payment_id)
    txn = payment.transaction
    if txn.status not in (Status.PROCESSING, Status.UNKNOWN):
        return Outcome.SKIPPED
    BillPayment.objects.filter(pk=payment.pk).update(status_queries=F("status_queries") + 1)
    _flag_if_old(txn)
    try:
        result = connector_for(payment.mode).payment_status(txn.public_id)
    except PaymentNotFound:
        outcome = _pay(payment, cause=Cause.POLLER, source="pay_after_status_not_found")
        if outcome in (Outcome.UNKNOWN, Outcome.RETRY):
            _back_off(payment)
        return outcome
    except (ProviderUnavailable, ProviderRejected, GatewayError):  # no usable answer: ask again later
        _back_off(payment)
        return Outcome.UNKNOWN
    outcome = apply_result(payment, result, cause=Cause.POLLER, source="payment_status")
    if outcome is Outcome.UNKNOWN:
        _back_off(payment)
    return outcome


def _flag_if_old(txn: Transaction) -> None:
    if not txn.needs_review and timezone.now() - txn.created_at > REVIEW_AFTER:
        transaction_flag_for_review(transaction_pk=txn.pk, only_statuses=[Status.PROCESSING, Status.UNKNOWN])


def _back_off(payment: BillPayment) -> None:
    interval = min(FIRST_POLL_AFTER * 2 ** min(payment.status_queries, 10), MAX_POLL_INTERVAL)
    _schedule_poll(payment, after=interval)


def _claim_due(statuses: list[str], limit: int) -> list[int]:
    with db_transaction.atomic():
        due = list(
            BillPayment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(transaction__status__in=statuses, next_poll_at__lte=timezone.now())
            .order_by("next_poll_at")
            .values_list("pk", flat=True)[:limit]
        )
        BillPayment.objects.filter(pk__in=due).update(next_poll_at=timezone.now() + CLAIMED_POLL_GRACE)
    return due


def bill_payments_due_for_poll(*, limit: int = 200) -> list[int]:
    """Claim the unknown payments (and stale processing ones) whose next status query is due.

    Their next poll is pushed back as they are claimed, so a beat that comes round before the
    query finished does not ask twice; the query itself sets the real next time.
    """
    return _claim_due([Status.PROCESSING, Status.UNKNOWN], limit)


def bill_payments_stuck_pending(*, limit: int = 200) -> list[int]:
    """Claim accepted payments no worker picked up in time (a lost message): run them again.
    Safe: execution claims pending → processing conditionally, so only one run pays."""
    return _claim_due([Status.PENDING], limit)
