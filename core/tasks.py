"""Maintenance tasks of the plumbing itself."""

import logging

from celery import shared_task

logger = logging.getLogger("core.tasks")


@shared_task(name="core.ping")
def ping(note: str = "") -> str:
    """A round trip through the broker and a worker (used by readiness drills and tests)."""
    logger.info("ping received %s", note)
    return "pong"
