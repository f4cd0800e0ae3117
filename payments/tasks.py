"""Celery tasks of the bills rail (routed to the ``payments`` queue by name). Each takes ids,
calls one service and decides about retries; each is safe to run twice. Delays and attempts are
the rail's policy (``core.policy``, read by the services)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import enqueue
from payments.services import (
    Step,
    bill_payment_execute,
    bill_payment_retry_delay,
    bill_payments_due_for_poll,
    bill_payments_resolve,
    bill_payments_stuck_pending,
)

# Status queries per task: the poller's chunks are resolved in parallel by the workers.
RESOLVE_CHUNK = 20


@shared_task(bind=True, name="payments.bill_payment_execute", max_retries=None)
def bill_payment_execute_task(self: Any, bill_payment_id: int, is_retry: bool = False) -> str:
    """Pay at the provider. When nothing happened there (unavailable), retry after the policy's
    delay with the same reference; once its attempts ran out, staff are asked to look (the
    poller keeps at it). The policy bounds the retries, hence ``max_retries=None``."""
    step = bill_payment_execute(bill_payment_id=bill_payment_id, is_retry=is_retry)
    if step is not Step.RETRY:
        return step.value
    countdown = bill_payment_retry_delay(bill_payment_id=bill_payment_id, attempts=self.request.retries + 1)
    if countdown is None:
        return "needs_review"
    raise self.retry(args=(bill_payment_id,), kwargs={"is_retry": True}, countdown=countdown)


@shared_task(name="payments.bill_payments_resolve")
def bill_payments_resolve_task(bill_payment_ids: list[int]) -> dict[str, int]:
    """One chunk of the poller: ask the provider about each payment; a bad one is set aside."""
    return bill_payments_resolve(bill_payment_ids=bill_payment_ids)


@shared_task(name="payments.poll_bill_payments")
def poll_bill_payments_task() -> int:
    """Beat: ask the provider about every unknown (or stale processing) payment that is due, and
    re-enqueue accepted payments whose execution message was lost. Returns how many were sent."""
    due = bill_payments_due_for_poll()
    for start in range(0, len(due), RESOLVE_CHUNK):
        enqueue("payments.bill_payments_resolve", due[start : start + RESOLVE_CHUNK])
    stuck = bill_payments_stuck_pending()
    for bill_payment_id in stuck:
        enqueue("payments.bill_payment_execute", bill_payment_id)
    return len(due) + len(stuck)
