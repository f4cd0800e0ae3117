"""Provider call records: one row per attempt to reach a provider (docs/architecture.md §4)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.provider_calls import CallOutcome
from ledger.models.transactions import Transaction


class ProviderCall(models.Model):
    """One attempt to call a provider: written before the call, completed after it."""

    Outcome = CallOutcome

    rail = models.CharField(max_length=20)
    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=4, blank=True, default="")
    operation = models.CharField(max_length=60)
    reference = models.CharField(max_length=120, blank=True, default="", help_text="our reference sent with it")
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="provider_calls"
    )
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, blank=True, default="", choices=[(o.value, o.value) for o in CallOutcome])
    error_code = models.CharField(max_length=64, blank=True, default="")
    retryable = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["", *CallOutcome]), name="ledger_providercall_outcome_known"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | ~Q(outcome=""), name="ledger_providercall_completed_outcome"
            ),
        ]
        indexes = [
            models.Index(fields=["transaction", "started_at"], name="ledger_pcall_txn_started"),
            models.Index(fields=["started_at"], name="ledger_pcall_started"),
            models.Index(fields=["provider", "operation", "-started_at"], name="ledger_pcall_provider_op"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.operation} {self.reference or '-'} {self.outcome or 'in flight'}"
