"""Celery tasks of the events app (queue ``outbox``)."""

from __future__ import annotations

from celery import shared_task

from core.tasks import enqueue
from events.relay import relay_outbox_drain


@shared_task(name="events.relay_outbox", ignore_result=True)
def relay_outbox() -> dict[str, int]:
    """Beat-driven relay pass: publish what is waiting. Safe to run concurrently (one pass holds
    the relay's advisory lock; the others return at once)."""
    outcome = relay_outbox_drain()
    return {"claimed": outcome.claimed, "published": outcome.published, "waiting": outcome.waiting}


@shared_task(name="events.webhook_deliveries_enqueue", ignore_result=True)
def webhook_deliveries_enqueue(delivery_ids: list[int]) -> int:
    """One relay pass's new webhook deliveries, each to its own delivery task (run in parallel by
    the workers). The relay sends this one message instead of one per delivery; a message lost on
    the way leaves the deliveries pending and due, and the beat's ``webhook_retry_due`` sends them."""
    for delivery_id in delivery_ids:
        enqueue("notifications.webhook_deliver", delivery_id)
    return len(delivery_ids)
