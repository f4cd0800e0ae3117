"""Beat work of the four-eyes requests (thin: the service does the work)."""

from __future__ import annotations

from celery import shared_task

from approvals.services import approval_requests_expire


@shared_task(name="approvals.expire_requests")
def expire_requests() -> int:
    """Mark pending requests past APPROVAL_REQUEST_TTL_HOURS expired (safe to run twice)."""
    return approval_requests_expire()
