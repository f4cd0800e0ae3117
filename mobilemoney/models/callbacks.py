"""Inbound provider callbacks, stored raw before anything else (docs/architecture.md §4)."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.raw_payloads import RawPayload


class CallbackStatus(models.TextChoices):
    RECEIVED = "received"  # stored raw, not verified yet; for an event: waiting for the apply task
    VERIFIED = "verified"  # a delivery whose signature verified: its events are the child rows
    APPLIED = "applied"  # every event applied (or found already final)
    FLAGGED = "flagged"  # kept for staff: unknown reference, unparseable event…
    REJECTED = "rejected"  # the signature did not verify (answered 401)


class InboundCallback(models.Model):
    """A provider callback as received: a delivery, or one event of a verified delivery.

    A delivery (``delivery`` empty, ``event_id`` empty) is stored with its raw body and headers
    before anything else, then verified (``rejected`` when the signature fails). Each event of a
    verified delivery (a bulk payload gives several) becomes a child row with its own
    ``event_id``: the unique constraint de-duplicates events, not deliveries, so the same event
    delivered ten times is applied once.
    """

    delivery = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="events")

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

    # the raw delivery is erased after RAW_PAYLOAD_RETENTION_DAYS (core/raw_payloads.py), once handled
    raw_payload = RawPayload(
        age_field="received_at", erased={"raw_body": b"", "headers": {}}, busy=models.Q(status=CallbackStatus.RECEIVED)
    )

    class Meta:
        verbose_name = _("inbound callback")
        verbose_name_plural = _("inbound callbacks")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=~models.Q(event_id=""),
                name="mm_callback_provider_event_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="mm_callback_status"),
            # a transaction's page lists the callbacks about it (the ops console's timeline)
            models.Index(fields=["transaction_public_id"], name="mm_callback_transaction"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id or '(unverified)'} {self.status}"
