"""Partner webhooks: one delivery per (outbox event, partner), every HTTP attempt recorded."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from core.raw_payloads import RawPayload
from ledger.models import OutboxEvent
from partners.models import Partner


def new_delivery_id() -> str:
    return new_id("whd")


class WebhookDelivery(models.Model):
    """One event to POST to one partner, retried until delivered, refused (4xx) or out of time."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not yet tried, or waiting for its next attempt
        DELIVERED = "delivered"  # the partner answered 2xx
        FAILED = "failed"  # refused (4xx, URL refused) or retries exhausted (24 h)

    public_id = models.CharField(max_length=40, unique=True, default=new_delivery_id, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="webhook_deliveries")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="webhook_deliveries")
    event_public_id = models.CharField(max_length=40, help_text="public id of the event (X-Event-Id)")
    event_type = models.CharField(max_length=80)
    url = models.URLField(max_length=500)
    body = models.BinaryField(help_text="the exact bytes POSTed, the same on every attempt")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="an attempt is under way until then")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # the body is erased after RAW_PAYLOAD_RETENTION_DAYS (core/raw_payloads.py) unless still to be sent
    raw_payload = RawPayload(age_field="created_at", erased={"body": b""}, busy=models.Q(status=Status.PENDING))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["event", "partner"], name="webhookdelivery_one_per_event")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP POST of a delivery: what the partner answered (or why there was no answer)."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered"  # 2xx
        RETRYABLE = "retryable"  # 5xx, 408, 429, timeout, connection error
        REFUSED = "refused"  # other 4xx, 3xx: not retried
        URL_REFUSED = "url_refused"  # the URL no longer passes the SSRF check: nothing sent

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=200, blank=True)

    raw_payload = RawPayload(age_field="started_at", erased={"response_excerpt": ""})

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"
