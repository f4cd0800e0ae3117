"""Inbound provider callbacks, stored raw before anything else (DESIGN.md §4)."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class CallbackStatus(models.TextChoices):
    RECEIVED = "received"  # stored, verified, waiting for the apply task
    APPLIED = "applied"  # every event applied (or found already final)
    FLAGGED = "flagged"  # kept for staff: unknown reference, unparseable event…
    REJECTED = "rejected"  # the signature did not verify (answered 401)


class InboundCallback(models.Model):
    """One delivery of a provider callback: raw body and headers as received.

    A bulk payload (several events) is stored once per event after verification, each with its
    own ``event_id`` so that the unique constraint de-duplicates events, not deliveries. A
    delivery that fails verification is stored once, with ``event_id`` left empty.
    """

    provider = models.CharField(max_length=20)
    mode = models.CharField(max_length=4, blank=True, default="")
    event_id = models.CharField(max_length=120, blank=True, default="")
    event_type = models.CharField(max_length=80, blank=True, default="")
    raw_body = models.BinaryField()
    headers = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    event = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.RECEIVED)
    flag_reason = models.CharField(max_length=200, blank=True, default="")
    transaction_public_id = models.CharField(max_length=40, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=~models.Q(event_id=""),
                name="mm_callback_provider_event_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="mm_callback_status")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id or '(unverified)'} {self.status}"
