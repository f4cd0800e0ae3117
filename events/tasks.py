"""Celery tasks of the events app (queue ``outbox``)."""

from __future__ import annotations

from celery import shared_task

from events.relay import relay_outbox_drain


@shared_task(name="events.relay_outbox", ignore_result=True)
def relay_outbox() -> dict[str, int]:
    """Beat-driven relay pass: publish what is waiting. Safe to run concurrently (one pass holds
    the relay's advisory lock; the others return at once)."""
    outcome = relay_outbox_drain()
    return {"claimed": outcome.claimed, "published": outcome.published, "waiting": outcome.waiting}
