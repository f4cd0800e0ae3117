"""Bulk cash-ins: a batch, its chunks (the unit of work of the bulk queue) and its items.

Items are ``CashIn`` rows (``batch``, ``chunk``, ``line``) with one ``cash_in`` transaction and
one hold each: progress, results and retries read the transactions.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from partners.models import Partner


class BatchStatus(models.TextChoices):
    PROCESSING = "processing"
    COMPLETED = "completed"


class ChunkStatus(models.TextChoices):
    PENDING = "pending"  # not sent yet (or sent item by item, still going)
    SUBMITTED = "submitted"  # held by the provider as one batch (``provider_batch_id``)
    DONE = "done"


def new_batch_id() -> str:
    return new_id("bat")


class CashInBatch(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_batch_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="cash_in_batches")
    mode = models.CharField(max_length=4)
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=12, default="processing")  # processing | completed
    item_count = models.PositiveIntegerField()
    total_minor = models.BigIntegerField(_("total"))
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cash-in batch")
        verbose_name_plural = _("cash-in batches")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status"], name="mm_batch_status")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.provider} {self.item_count} items"


class BatchChunk(models.Model):
    """Hundreds of items worked by one task at a time; ``lease_until`` lets the sweeper find a
    chunk whose worker died (it is re-enqueued; every step of a chunk is safe to repeat)."""

    batch = models.ForeignKey(CashInBatch, on_delete=models.PROTECT, related_name="chunks")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, default="pending")  # pending | submitted | done
    provider_batch_id = models.CharField(max_length=120, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("batch chunk")
        verbose_name_plural = _("batch chunks")
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="mm_chunk_unique")]
        indexes = [models.Index(fields=["status", "lease_until"], name="mm_chunk_due")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.number} {self.status}"
