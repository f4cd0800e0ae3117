"""Celery tasks of reconciliation (routed to the ``maintenance`` queue by name); safe to run twice:
a second run of a day is one more run, and breaks keep their ids (docs/reports.md §3.3)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from reconciliation.services import reconciliation_run_all


@shared_task(name="reconciliation.reconcile_yesterday")
def reconcile_yesterday() -> dict[str, str]:
    """Beat, daily: yesterday (in the bank's time zone) for every provider and mode."""
    day = timezone.localdate() - timedelta(days=1)
    return {f"{run.provider}:{run.mode}": run.verdict for run in reconciliation_run_all(business_date=day)}
