"""Idempotency keys: the claim of a partner's key and the response it produced."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partners.models import Mode, Partner


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class IdempotencyRecord(models.Model):
    """A partner's idempotency key in one mode: the request it claimed and the response stored."""

    State = IdempotencyState

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="idempotency_records")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and raw body")
    state = models.CharField(max_length=12, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["partner", "mode", "key"], name="ledger_idempotency_unique_key"),
            models.CheckConstraint(condition=Q(state__in=IdempotencyState.values), name="ledger_idem_state_known"),
            models.CheckConstraint(
                condition=Q(state=IdempotencyState.IN_PROGRESS)
                | Q(response_status__isnull=False, response_body__isnull=False),
                name="ledger_idem_completed_has_response",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="ledger_idem_expires")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
