"""Maintenance tasks of the plumbing itself, and the one way to enqueue work after a commit."""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app, shared_task
from django.db import transaction

from core.raw_payloads import raw_payloads_purge

logger = logging.getLogger("core.tasks")


@shared_task(name="core.ping")
def ping(note: str = "") -> str:
    """A round trip through the broker and a worker (used by readiness drills and tests)."""
    logger.info("ping received %s", note)
    return "pong"


def enqueue_on_commit(task_name: str, *args: Any, countdown: float | None = None, **kwargs: Any) -> None:
    """Send the task named ``task_name`` once the current DB transaction commits (at once outside one).

    By name, so a service never imports its app's ``tasks`` module (which imports the services):
    no import cycle, and the queue still follows the task's name (``CELERY_TASK_ROUTES``).
    """
    transaction.on_commit(lambda: enqueue(task_name, *args, countdown=countdown, **kwargs))


def enqueue(task_name: str, *args: Any, countdown: float | None = None, **kwargs: Any) -> None:
    """Send the task named ``task_name`` now (from a task or a beat, outside a DB transaction)."""
    current_app.send_task(task_name, args=args, kwargs=kwargs, countdown=countdown)


@shared_task(name="core.purge_raw_payloads")
def purge_raw_payloads() -> dict[str, int]:
    """Beat, hourly: raw callback and webhook bodies past ``RAW_PAYLOAD_RETENTION_DAYS`` erased."""
    return raw_payloads_purge()
