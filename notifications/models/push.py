"""Push notifications sent for partners, with one row per target (token, topic or condition)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from ledger.models import OutboxEvent
from partners.models import Mode, Partner


def new_notification_id() -> str:
    return new_id("ntf")


class PushNotification(models.Model):
    """One push request of a partner: the message as validated and its overall progress."""

    class Status(models.TextChoices):
        QUEUED = "queued"  # some targets still to send (first time or retry)
        COMPLETED = "completed"  # every target has a final result

    public_id = models.CharField(max_length=40, unique=True, default=new_notification_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="push_notifications")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    target_kind = models.CharField(max_length=10)  # tokens | topic | condition
    message = models.JSONField(help_text="title, body, data, android, apns as accepted")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    sends = models.PositiveIntegerField(default=0, help_text="provider sends made so far")
    next_send_at = models.DateTimeField(null=True, blank=True, help_text="when pending targets are due")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="a send is under way until then")
    source_event = models.ForeignKey(
        OutboxEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="push_notifications",
        help_text="the event whose push rule created it (end-user notification of a final state)",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("push notification")
        verbose_name_plural = _("push notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event"],
                condition=models.Q(source_event__isnull=False),
                name="pushnotification_one_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"


class PushTarget(models.Model):
    """One target of a notification and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending"  # to send (first time, or a retryable error)
        DELIVERED = "delivered"  # FCM accepted it (message id)
        DEAD = "dead"  # the token will never work again: never retried
        FAILED = "failed"  # refused for good, or retries exhausted

    notification = models.ForeignKey(PushNotification, on_delete=models.CASCADE, related_name="targets")
    position = models.PositiveIntegerField()
    target = models.CharField(max_length=4096)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message_id = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("push target")
        verbose_name_plural = _("push targets")
        ordering = ["notification", "position"]
        constraints = [models.UniqueConstraint(fields=["notification", "position"], name="pushtarget_position")]

    def __str__(self) -> str:
        return f"target {self.position} of {self.notification_id}: {self.status}"
