"""Celery tasks of the reports (routed to the ``bulk`` queue by name); each safe to run twice."""

from __future__ import annotations

from celery import shared_task

from ledger.balances import provider_floats
from partners.models import Mode
from reporting.services import float_snapshots_take, report_write


@shared_task(name="reporting.report_write")
def report_write_task(report_id: int) -> str:
    """Write a requested report file (a second delivery finds it claimed and does nothing)."""
    return str(report_write(report_id=report_id).status)


@shared_task(name="reporting.float_snapshots")
def float_snapshots_task() -> int:
    """Beat, hourly: keep what each provider reports as our float (the float position of a day)."""
    readings = [
        (balance.provider, mode, balance.money.currency, balance.money.minor)
        for mode in Mode.values
        for balance in provider_floats(mode=mode)
        if balance.money is not None
    ]
    return float_snapshots_take(readings=readings)
