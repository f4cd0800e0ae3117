"""Reconciliation against the providers (docs/reports.md §3): runs, their breaks, matched pairs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from ledger.models import Transaction
from partners.models import Mode


class Verdict(models.TextChoices):
    RECONCILED = "reconciled", "Reconciled"
    BREAKS = "breaks", "Breaks"
    INCOMPLETE = "incomplete", "Incomplete (the provider's record could not be had whole)"


class BreakKind(models.TextChoices):
    MISSING_AT_PROVIDER = "missing_at_provider", "Missing at the provider"
    MISSING_IN_LEDGER = "missing_in_ledger", "Missing in our ledger"
    AMOUNT_DIFFERS = "amount_differs", "Amount differs"
    FEE_DIFFERS = "fee_differs", "Fee differs"
    STATUS_DIFFERS = "status_differs", "Status differs"
    DUPLICATE_AT_PROVIDER = "duplicate_at_provider", "Duplicate at the provider"


class BreakState(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Still open"
    RESOLVED = "resolved", "Resolved"


class ReconciliationRun(models.Model):
    """One comparison of a provider's record of a business day with our ledger."""

    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=4, choices=Mode.choices)
    business_date = models.DateField()
    source = models.CharField(max_length=20, help_text="fetched from the provider, or imported from a file")
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    note = models.CharField(max_length=500, blank=True, default="", help_text="why the run is incomplete")
    provider_lines = models.PositiveIntegerField(default=0)
    ledger_transactions = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    in_flight = models.PositiveIntegerField(default=0, help_text="ours still processing or unknown, not in the record")
    counts = models.JSONField(default=dict, blank=True, help_text="breaks by kind")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-business_date", "-id"]
        indexes = [models.Index(fields=["provider", "mode", "business_date"], name="recon_run_day")]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="recon_run_verdict_known"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.business_date} {self.verdict}"


class ReconciliationBreak(models.Model):
    """One difference between a provider's record and our ledger, followed from run to run."""

    Kind = BreakKind
    State = BreakState

    break_id = models.CharField(max_length=40, unique=True, help_text="stable across runs of the same day")
    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=4, choices=Mode.choices)
    business_date = models.DateField()
    kind = models.CharField(max_length=24, choices=BreakKind.choices)
    state = models.CharField(max_length=10, choices=BreakState.choices, default=BreakState.NEW)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="reconciliation_breaks"
    )
    reference = models.CharField(max_length=120, blank=True, default="", help_text="our reference")
    provider_reference = models.CharField(max_length=120, blank=True, default="")
    currency = models.CharField(max_length=3)
    ledger_amount_minor = models.BigIntegerField(null=True, blank=True)
    provider_amount_minor = models.BigIntegerField(null=True, blank=True)
    ledger_fee_minor = models.BigIntegerField(null=True, blank=True)
    provider_fee_minor = models.BigIntegerField(null=True, blank=True)
    ledger_status = models.CharField(max_length=12, blank=True, default="")
    provider_status = models.CharField(max_length=12, blank=True, default="")
    first_run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="breaks_found")
    last_run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="breaks_seen")
    first_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["first_seen_at", "id"]
        indexes = [
            models.Index(fields=["provider", "mode", "business_date", "state"], name="recon_break_day_state"),
            models.Index(fields=["state", "first_seen_at"], name="recon_break_ageing"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=BreakKind.values), name="recon_break_kind_known"),
            models.CheckConstraint(condition=Q(state__in=BreakState.values), name="recon_break_state_known"),
        ]

    def __str__(self) -> str:
        return f"{self.break_id} {self.kind} ({self.state})"

    @property
    def difference_minor(self) -> int:
        """What the provider says minus what we say (0 when one side has no amount)."""
        return (self.provider_amount_minor or 0) - (self.ledger_amount_minor or 0)


class ReconciliationMatch(models.Model):
    """One of our transactions and the provider's line that agree with it, in one run."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="matches")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    provider_reference = models.CharField(max_length=120, blank=True, default="")
    amount_minor = models.BigIntegerField()
    provider_fee_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "reconciliation matches"

    def __str__(self) -> str:
        return f"run {self.run_id}: txn {self.transaction_id} = {self.provider_reference}"
