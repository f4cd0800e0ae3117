"""Reconciliation's write services (docs/conventions.md §8). Import from here."""

from reconciliation.services.adjustments import break_resolve_by_adjustment
from reconciliation.services.runs import reconciliation_run, reconciliation_run_all, record_fetch

__all__ = ["break_resolve_by_adjustment", "reconciliation_run", "reconciliation_run_all", "record_fetch"]
