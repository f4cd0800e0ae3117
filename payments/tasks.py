"""Celery tasks of the bills rail (routed to the ``payments`` queue by name). Each takes ids,
calls one service and decides about retries; each is safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from payments.services import (
    Outcome,
    bill_payment_execute,
    bill_payment_flag_for_review,
    bill_payment_resolve,
    bill_payments_due_for_poll,
    bill_payments_stuck_pending,
)

MAX_PAY_RETRIES = 5
RETRY_BASE_SECONDS = 2


@shared_task(bind=True, name="payments.bill_payment_execute", max_retries=MAX_PAY_RETRIES)
def bill_payment_execute_task(self: Any, bill_payment_id: int, is_retry: bool = False) -> str:
    """Pay at the provider. When nothing happened there (unavailable), retry with backoff and the
    same reference; when retries run out, flag for review (the poller keeps at it)."""
    outcome = bill_payment_execute(bill_payment_id=bill_payment_id, is_retry=is_retry)
    if outcome is Outcome.RETRY:
        if self.request.retries >= MAX_PAY_RETRIES:
            bill_payment_flag_for_review(bill_payment_id=bill_payment_id)
            return "needs_review"
        countdown = RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(args=(bill_payment_id,), kwargs={"is_retry": True}, countdown=countdown)
    return outcome.value


@shared_task(name="payments.bill_payment_resolve")
def bill_payment_resolve_task(bill_payment_id: int) -> str:
    return bill_payment_resolve(bill_payment_id=bill_payment_id).value


@shared_task(name="payments.poll_bill_payments")
def poll_bill_payments_task() -> int:
    """Beat: ask the provider about every unknown (or stale processing) payment that is due, and
    re-enqueue accepted payments whose execution message was lost. Returns how many were sent."""
    due = bill_payments_due_for_poll()
    for bill_payment_id in due:
        bill_payment_resolve_task.delay(bill_payment_id)
    stuck = bill_payments_stuck_pending()
    for bill_payment_id in stuck:
        bill_payment_execute_task.delay(bill_payment_id)
    return len(due) + len(stuck)
