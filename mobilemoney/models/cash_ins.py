"""A cash-in: the rail's side of a ``cash_in`` transaction (where it goes, how it is resolved)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ledger.models import Transaction


class CashIn(models.Model):
    """One payout to a wallet. Money, status and history live on the ``Transaction``.

    ``next_poll_at`` / ``poll_attempts`` drive the status poller of ``unknown`` outcomes and the
    retries of ``ProviderUnavailable`` (docs/architecture.md §7); the provider sees the transaction's
    public id as our stable reference, so a re-drive can never pay twice.
    """

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="cash_in")
    provider = models.CharField(max_length=20)
    msisdn = models.CharField(max_length=16)
    recipient_name = models.CharField(max_length=100, blank=True, default="")
    reason = models.CharField(max_length=140, blank=True, default="")
    provider_reference = models.CharField(max_length=120, blank=True, default="")
    poll_attempts = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # indexed below, only where set: a single cash-in (batch and chunk empty) adds no entry to them
    batch = models.ForeignKey(
        "mobilemoney.CashInBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
        db_index=False,
    )
    chunk = models.ForeignKey(
        "mobilemoney.BatchChunk",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
        db_index=False,
    )
    line = models.PositiveIntegerField(null=True, blank=True, help_text="0-based index of the item in its batch")
    retry_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retried_by",
        help_text="the failed batch item this one retries (same line and client reference)",
    )  # fmt: skip
    superseded = models.BooleanField(default=False, help_text="a failed batch item that was retried")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cash-in")
        verbose_name_plural = _("cash-ins")
        # Partial where most rows have nothing to index (docs/performance.md §4): the poller looks
        # for ``next_poll_at <= now``, set only while a cash-in waits for news; batch and chunk
        # are set only on a batch's items (the (batch, line) index also serves "the batch's items")
        indexes = [
            models.Index(fields=["next_poll_at"], name="mm_cashin_poll_due", condition=Q(next_poll_at__isnull=False)),
            models.Index(fields=["batch", "line"], name="mm_cashin_batch_items", condition=Q(batch__isnull=False)),
            models.Index(fields=["chunk"], name="mm_cashin_chunk_items", condition=Q(chunk__isnull=False)),
            # staff find a payout by its exact phone number (the ops console's search)
            models.Index(fields=["msisdn"], name="mm_cashin_msisdn"),
        ]

    def __str__(self) -> str:  # no phone number: it names the row on every page (docs/conventions.md §38)
        return f"cash-in {self.provider} #{self.pk}"
