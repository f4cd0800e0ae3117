"""Celery tasks of the notifications app (queue ``notifications``): webhook attempts and pushes.

Tasks import the services, never the reverse: the services enqueue these tasks by name
(``core.tasks.enqueue_on_commit``). Each task's service guards its one item: an unexpected error
is logged with the row's id and the row is set aside (failed), so the beat's safety nets below
never pick it up again.
"""

from __future__ import annotations

from celery import shared_task

from core.tasks import enqueue
from notifications.push import push_notifications_due, push_send
from notifications.webhooks import webhook_deliveries_due, webhook_delivery_attempt


@shared_task(name="notifications.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> str:
    """Attempt one delivery if due; schedule the next attempt when a retryable failure says so.

    Safe to run twice: the attempt is claimed with a lease, and a delivery that is not due
    (already delivered, failed, or waiting) is left alone.
    """
    result = webhook_delivery_attempt(delivery_id)
    if result.retry_in is not None:
        webhook_deliver.apply_async((delivery_id,), countdown=result.retry_in)
    return result.status


@shared_task(name="notifications.webhook_retry_due", ignore_result=True)
def webhook_retry_due() -> int:
    """Beat safety net: re-enqueue pending deliveries whose attempt is due (a lost task, a restart)."""
    ids = webhook_deliveries_due()
    for delivery_id in ids:
        enqueue("notifications.webhook_deliver", delivery_id)
    return len(ids)


@shared_task(name="notifications.push_send", ignore_result=True)
def push_send_task(notification_id: int) -> int:
    """Send a push's pending targets; schedule the next send when retryable errors remain.

    Safe to run twice: the notification is claimed with a lease and only pending targets are sent.
    """
    outcome = push_send(notification_id)
    if outcome.retry_in is not None:
        push_send_task.apply_async((notification_id,), countdown=outcome.retry_in)
    return outcome.sent


@shared_task(name="notifications.push_retry_due", ignore_result=True)
def push_retry_due() -> int:
    """Beat safety net: re-enqueue queued pushes whose send is overdue (lost task, expired lease)."""
    ids = push_notifications_due()
    for notification_id in ids:
        enqueue("notifications.push_send", notification_id)
    return len(ids)
