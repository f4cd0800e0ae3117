"""Ledger maintenance tasks (beat-scheduled; safe to run twice)."""

from __future__ import annotations

import logging

from celery import shared_task

from ledger.services.idempotency import idempotency_purge_expired
from ledger.services.provider_calls import provider_calls_purge

logger = logging.getLogger("ledger.tasks")


@shared_task(name="ledger.purge_idempotency_records")  # the default queue: maintenance
def purge_idempotency_records() -> int:
    """Delete idempotency records past their expiry (kept at least 24 h)."""
    deleted = idempotency_purge_expired()
    logger.info("purged expired idempotency records", extra={"deleted": deleted})
    return deleted


@shared_task(name="ledger.purge_provider_calls")
def purge_provider_calls() -> int:
    """Delete provider call records older than the retention (PROVIDER_CALL_RETENTION_DAYS)."""
    deleted = provider_calls_purge()
    logger.info("purged old provider call records", extra={"deleted": deleted})
    return deleted
