"""Carrying out an accepted bill payment at the provider, and resolving unknown outcomes.

Every function here runs outside any DB transaction while it talks to the provider, and is safe
to run twice: the provider is idempotent by our reference (the transaction's public id), and
every answer is handed to the ledger's one outcome service (``ledger.services.outcome_apply``),
whose moves are compare-and-set: a worker and the poller applying the same answer move money
once. An unknown outcome is only ever resolved by what the provider says about the reference
(docs/architecture.md §3, step 7), never guessed. Delays, attempts and the review age come from the rail's
policy (``core.policy.policy_for("bills", mode)``); nothing here sleeps.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from core.errors import (
    ErrorCode,
    GatewayError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from core.outcomes import Outcome, OutcomeKind
from core.policy import RetryPolicy, policy_for
from ledger.services import (
    calls_about,
    item_guard,
    outcome_apply,
    transaction_claim,
    transaction_flag_for_review,
)
from ledger.states import Cause, Status
from payments.models import BillPayment
from payments.providers.base import PaymentNotFound, PaymentResult, PaymentStatus, Receipt
from payments.services.catalog import bills_connector
from payments.services.payments import STALE_PROCESSING

logger = logging.getLogger("payments.execution")

RAIL = "bills"
IN_FLIGHT = (Status.PROCESSING, Status.UNKNOWN)
# A claim by the poller is a lease, not a backoff: a beat that comes round while the status query
# of a claimed payment is still running must not ask again. The query sets the real next time.
CLAIMED_POLL_GRACE = timedelta(seconds=30)
FAILURE_MESSAGE_LENGTH = 500  # Transaction.failure_message


class Step(StrEnum):
    """What one run of the worker or the poller did (the provider's answer is a ``core`` Outcome)."""

    SUCCEEDED = "succeeded"  # this run settled the payment as paid
    FAILED = "failed"  # this run settled the payment as failed (hold released)
    UNKNOWN = "unknown"  # asked, no final answer yet: the poller will ask again
    RETRY = "retry"  # nothing happened at the provider: send again later with the same reference
    SKIPPED = "skipped"  # claimed or finished by someone else
    SET_ASIDE = "set_aside"  # failed unexpectedly: taken out of automatic work for staff


def policy_of(payment: BillPayment) -> RetryPolicy:
    return policy_for(RAIL, payment.mode)


def _load(bill_payment_id: int) -> BillPayment:
    return BillPayment.objects.select_related("transaction", "transaction__partner", "quote").get(pk=bill_payment_id)


def _schedule_poll(payment: BillPayment, *, at: datetime) -> None:
    BillPayment.objects.filter(pk=payment.pk).update(next_poll_at=at)


def _outcome_of(result: PaymentResult) -> Outcome:
    """The provider's record of our reference, as the one outcome type."""
    if result.status is PaymentStatus.SUCCEEDED:
        return Outcome.succeeded(result.provider_reference)
    if result.status is PaymentStatus.FAILED:
        return Outcome.rejected(
            result.failure_code or ErrorCode.PROVIDER_REJECTED,
            (result.failure_message or "The provider refused the payment.")[:FAILURE_MESSAGE_LENGTH],
            provider_code=result.provider_failure_code,
            provider_reference=result.provider_reference,
        )
    return Outcome.pending(result.provider_reference, provider_status=str(result.status))


def _outcome_of_error(exc: ProviderRejected | ProviderOutcomeUnknown | ProviderUnavailable | GatewayError) -> Outcome:
    """A typed error of ``pay``. A disabled or missing connection sent nothing: unavailable."""
    if isinstance(exc, ProviderRejected):
        message = exc.message[:FAILURE_MESSAGE_LENGTH]
        return Outcome.rejected(exc.code, message, provider_code=exc.provider_code)
    if isinstance(exc, ProviderOutcomeUnknown | ProviderUnavailable):
        return Outcome.from_error(exc)
    return Outcome.unavailable(exc.detail)


def _apply(
    payment: BillPayment,
    outcome: Outcome,
    *,
    cause: Cause,
    source: str,
    receipt: Receipt | None = None,
    **review: Any,
) -> Step:
    """Hand the outcome to the ledger, keep the receipt with the status, and say what this run did.

    Scheduling the next status query is the caller's (the worker asks soon, the poller backs off).
    """
    txn = payment.transaction
    detail = {"source": source}
    if outcome.provider_reference:
        detail["provider_payment_id"] = outcome.provider_reference
    with db_transaction.atomic():  # the receipt is visible with the status, never before or after it
        applied = outcome_apply(transaction=txn, outcome=outcome, cause=cause, detail=detail, **review)
        if applied.moved and outcome.is_final:
            _record_receipt(payment, outcome.provider_reference, receipt)
    if outcome.kind is OutcomeKind.SUCCEEDED:
        return Step.SUCCEEDED if applied.moved else Step.SKIPPED
    if outcome.kind is OutcomeKind.REJECTED:
        return Step.FAILED if applied.moved else Step.SKIPPED
    return Step.RETRY if outcome.kind is OutcomeKind.UNAVAILABLE else Step.UNKNOWN


def _record_receipt(payment: BillPayment, provider_reference: str | None, receipt: Receipt | None) -> None:
    changes: dict[str, Any] = {"provider_payment_id": provider_reference or ""}
    if receipt is not None:
        changes.update(receipt_number=receipt.receipt_number, tokens=list(receipt.tokens), kwh=receipt.kwh)
    BillPayment.objects.filter(pk=payment.pk).update(**changes)


def _apply_result(payment: BillPayment, result: PaymentResult, *, cause: Cause, source: str) -> Step:
    receipt = result.receipt if result.status is PaymentStatus.SUCCEEDED else None
    return _apply(payment, _outcome_of(result), cause=cause, source=source, receipt=receipt)


def _pay(payment: BillPayment, *, cause: Cause, source: str) -> Step:
    """Send the payment (again) under our stable reference and apply what comes back."""
    txn = payment.transaction
    try:
        with bills_connector(payment.mode) as connector, calls_about(txn):
            result = connector.pay(quote_id=payment.quote.provider_quote_id, reference=txn.public_id)
    except ProviderRejected as exc:
        if exc.code is ErrorCode.IDEMPOTENCY_KEY_REUSED:
            # The reference is taken by another quote: nothing says what was paid; only staff can untangle it.
            reason = "the provider holds our reference for another quote"
            unknown = Outcome.unknown(reason)
            return _apply(payment, unknown, cause=cause, source=source, needs_review=True, review_reason=reason)
        return _apply(payment, _outcome_of_error(exc), cause=cause, source=source)
    except (ProviderOutcomeUnknown, ProviderUnavailable, GatewayError) as exc:
        return _apply(payment, _outcome_of_error(exc), cause=cause, source=source)
    return _apply_result(payment, result, cause=cause, source=source)


def _claim(payment: BillPayment) -> bool:
    """pending → processing, once: a duplicate delivery (or a set-aside payment) does nothing."""
    if not transaction_claim(transaction=payment.transaction):
        return False
    _schedule_poll(payment, at=timezone.now() + STALE_PROCESSING)
    return True


def bill_payment_execute(*, bill_payment_id: int, is_retry: bool = False) -> Step:
    """The worker's step: claim (pending → processing), pay under our reference, apply the outcome.

    A first run that finds the payment already claimed does nothing (a duplicate delivery); a
    retry after ``ProviderUnavailable`` proceeds only while the payment is still ``processing``.
    An unexpected error sets the payment aside for staff (the stuck-payment sweep re-drives this
    step, which must not fail the same way forever).
    """
    payment = _load(bill_payment_id)
    with item_guard(work="payments.bill_payment_execute", transaction=payment.transaction, item=payment.public_id):
        if not is_retry:
            if not _claim(payment):
                return Step.SKIPPED
        elif payment.transaction.status != Status.PROCESSING:
            return Step.SKIPPED
        step = _pay(payment, cause=Cause.WORKER, source="pay")
        if step is Step.UNKNOWN:
            _schedule_poll(payment, at=policy_of(payment).next_at(0))  # the answer was lost: ask soon
        return step
    return Step.SET_ASIDE


def bill_payment_retry_delay(*, bill_payment_id: int, attempts: int) -> float | None:
    """Seconds before sending again a payment the provider could not take after ``attempts``
    sends, or None when the policy's attempts ran out: then staff are asked to look (the poller
    keeps trying meanwhile)."""
    payment = _load(bill_payment_id)
    policy = policy_of(payment)
    if not policy.is_exhausted(attempts):
        return policy.delay(attempts - 1)
    transaction_flag_for_review(
        transaction_pk=payment.transaction_id,
        only_statuses=IN_FLIGHT,
        reason=f"provider unavailable after {attempts} attempts",
    )
    return None


def bill_payment_resolve(*, bill_payment_id: int) -> Step:
    """Ask the provider what became of our reference and apply it (the poller's step).

    Not found means nothing was ever recorded under the reference: pay is sent again with the
    same quote and reference (the provider's documented safe reaction), which can pay at most once.
    An unexpected error sets the payment aside: the poller skips it from then on.
    """
    payment = _load(bill_payment_id)
    txn = payment.transaction
    if txn.status not in IN_FLIGHT:
        return Step.SKIPPED
    with item_guard(work="payments.bill_payment_resolve", transaction=txn, item=payment.public_id):
        return _resolve(payment)
    return Step.SET_ASIDE


def _resolve(payment: BillPayment) -> Step:
    txn = payment.transaction
    BillPayment.objects.filter(pk=payment.pk).update(status_queries=F("status_queries") + 1)
    policy = policy_of(payment)
    if not txn.needs_review and policy.is_overdue(txn.created_at):
        transaction_flag_for_review(
            transaction_pk=txn.pk, only_statuses=IN_FLIGHT, reason="unresolved past the review age"
        )
    try:
        with bills_connector(payment.mode) as connector, calls_about(txn):
            result = connector.payment_status(txn.public_id)
    except PaymentNotFound:
        step = _pay(payment, cause=Cause.POLLER, source="pay_after_status_not_found")
    except (ProviderUnavailable, ProviderRejected, GatewayError):  # no usable answer: ask again later
        step = Step.UNKNOWN
    else:
        step = _apply_result(payment, result, cause=Cause.POLLER, source="payment_status")
    if step in (Step.UNKNOWN, Step.RETRY):
        _schedule_poll(payment, at=policy.next_at(payment.status_queries))  # the count before this query
    return step


def bill_payments_resolve(*, bill_payment_ids: list[int]) -> dict[str, int]:
    """The poller's chunk: resolve each payment; one that fails unexpectedly is set aside by
    ``bill_payment_resolve`` and the others go on. Returns how many ended in each step."""
    steps: dict[str, int] = {}
    for bill_payment_id in bill_payment_ids:
        step = bill_payment_resolve(bill_payment_id=bill_payment_id)
        steps[step] = steps.get(step, 0) + 1
    return steps


def _claim_due(statuses: tuple[str, ...], limit: int) -> list[int]:
    """Payments in ``statuses`` whose poll is due, set-aside ones excluded (they would only fail
    again), their next poll pushed back by the claim's lease."""
    with db_transaction.atomic():
        due = list(
            BillPayment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                transaction__status__in=statuses,
                transaction__set_aside_at__isnull=True,
                next_poll_at__lte=timezone.now(),
            )
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
    return _claim_due(IN_FLIGHT, limit)


def bill_payments_stuck_pending(*, limit: int = 200) -> list[int]:
    """Claim accepted payments no worker picked up in time (a lost message): run them again.
    Safe: execution claims pending → processing conditionally, so only one run pays."""
    return _claim_due((Status.PENDING,), limit)
