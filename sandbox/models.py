"""State of the simulated outside world, shared by every simulator.

The sandbox is "the outside world": it imports nothing of ours but ``core``. Each simulator
keeps its provider-side objects as JSON documents, remembers idempotency keys the way the real
provider does, counts the money-moving effects per reference (so a test can prove nothing was
paid twice), and queues the callbacks it sends back to the gateway.
"""

from __future__ import annotations

from django.db import models


class SimObject(models.Model):
    """One provider-side object (a payout, a checkout session, a bill, an account…)."""

    provider = models.CharField(max_length=40)
    kind = models.CharField(max_length=40)
    object_id = models.CharField(max_length=80)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "kind", "object_id"], name="sandbox_object_unique"),
        ]
        indexes = [models.Index(fields=["provider", "kind", "reference"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.object_id}"


class SimIdempotency(models.Model):
    """An idempotency key as the provider remembers it: same key, same answer."""

    provider = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "key"], name="sandbox_idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.provider} {self.key}"


class SimEffect(models.Model):
    """A money-moving effect the provider carried out (a payout paid, a bill settled…)."""

    provider = models.CharField(max_length=40)
    effect = models.CharField(max_length=40)
    reference = models.CharField(max_length=255, db_index=True)
    amount_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="XOF")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.provider} {self.effect} {self.reference}"


class SimCounter(models.Model):
    """A named counter (attempts seen for a reference, float balance movements…)."""

    provider = models.CharField(max_length=40)
    name = models.CharField(max_length=255)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="sandbox_counter_unique")]

    def __str__(self) -> str:
        return f"{self.provider} {self.name}={self.value}"


class SimCallback(models.Model):
    """A callback the provider sends to the gateway, delivered with retries."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    provider = models.CharField(max_length=40)
    url = models.CharField(max_length=500)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True)
    deliver_after = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "deliver_after"])]

    def __str__(self) -> str:
        return f"{self.provider} callback {self.pk} {self.status}"
