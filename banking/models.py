"""Bank transfers: batches received from partner banks, transfers sent to other banks, and the
partner bank's status callbacks. Money and status live on ``ledger.Transaction``; these rows
hold what the rail adds (ISO identifiers, accounts, reason codes)."""

from __future__ import annotations

from functools import partial

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from core.raw_payloads import RawPayload
from ledger.models import Transaction
from partners.models import Mode, Partner


class BatchStatus(models.TextChoices):
    RECEIVED = "received"  # accepted, items pending
    PROCESSING = "processing"  # credits under way
    COMPLETED = "completed"  # every item final


class TransferBatch(models.Model):
    """A pain.001 (or JSON) batch a partner bank sent us: credits to our customers' accounts."""

    OUTBOX_AGGREGATE_TYPE = "transfer_batch"

    public_id = models.CharField(max_length=40, unique=True, default=partial(new_id, "trb"), editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="transfer_batches")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    msg_id = models.CharField(max_length=35, help_text="GrpHdr/MsgId, unique per partner and mode")
    message_name = models.CharField(max_length=20, help_text="pain.001.001.03, pain.001.001.09 or json")
    original_created_at = models.DateTimeField(help_text="GrpHdr/CreDtTm")
    initiating_party = models.CharField(max_length=140, blank=True, default="")
    nb_of_txs = models.PositiveIntegerField()
    ctrl_sum_minor = models.BigIntegerField(_("control sum"))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.RECEIVED)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transfer batch")
        verbose_name_plural = _("transfer batches")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "mode", "msg_id"], name="banking_batch_msg_id_unique"),
            models.CheckConstraint(condition=Q(ctrl_sum_minor__gt=0), name="banking_batch_ctrl_sum_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.msg_id})"


class TransferBatchItem(models.Model):
    """One credit transfer (CdtTrfTxInf) of a batch, credited through its ledger transaction."""

    batch = models.ForeignKey(TransferBatch, on_delete=models.PROTECT, related_name="items")
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="batch_item")
    position = models.PositiveIntegerField(help_text="1-based order in the message")
    pmt_inf_id = models.CharField(max_length=35)
    instr_id = models.CharField(max_length=35, blank=True, default="")
    end_to_end_id = models.CharField(max_length=35)
    creditor_name = models.CharField(max_length=140)
    creditor_account = models.CharField(max_length=34)
    remittance_information = models.CharField(max_length=140, blank=True, default="")
    reason_code = models.CharField(max_length=4, blank=True, default="", help_text="ISO reason when rejected")
    posting_reference = models.CharField(max_length=64, blank=True, default="")
    poll_attempts = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transfer batch item")
        verbose_name_plural = _("transfer batch items")
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "end_to_end_id"], name="banking_item_e2e_unique"),
            models.UniqueConstraint(fields=["batch", "position"], name="banking_item_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.position} {self.end_to_end_id}"


class Settlement(models.TextChoices):
    RTGS = "RTGS"  # STAR-UEMOA
    CLEARING = "CLEARING"  # SICA-UEMOA


class BankTransfer(models.Model):
    """A transfer we send to another bank's customer through the partner bank (pacs.008)."""

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="bank_transfer")
    end_to_end_id = models.CharField(max_length=35)
    beneficiary_name = models.CharField(max_length=140)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)
    settlement = models.CharField(max_length=8, choices=Settlement.choices)
    remittance_information = models.CharField(max_length=140, blank=True, default="")
    reason_code = models.CharField(max_length=4, blank=True, default="")
    send_attempts = models.PositiveIntegerField(default=0)
    is_submitted = models.BooleanField(default=False, help_text="the partner bank acknowledged the transfer")
    poll_attempts = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bank transfer")
        verbose_name_plural = _("bank transfers")

    def __str__(self) -> str:  # no account number: it names the row on every page (docs/conventions.md §38)
        return f"transfer {self.end_to_end_id}"


class CallbackStatus(models.TextChoices):
    RECEIVED = "received"  # stored, not verified yet
    INVALID_SIGNATURE = "invalid_signature"
    UNREADABLE = "unreadable"
    DUPLICATE = "duplicate"  # same message id as an earlier callback
    QUEUED = "queued"  # verified, unique, waiting for the worker
    APPLIED = "applied"
    UNKNOWN_REFERENCE = "unknown_reference"  # applied, but named a transfer we do not have


class BankCallback(models.Model):
    """A status message (pacs.002) the partner bank posted to us, stored raw before anything else."""

    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=4, blank=True, default="", help_text="of the connection that verified it")
    # NULL until verified: many unverified rows, one row per verified message id.
    event_id = models.CharField(max_length=64, null=True, blank=True, help_text="the pacs.002 MsgId")  # noqa: DJ001
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=CallbackStatus.choices, default=CallbackStatus.RECEIVED)
    error = models.CharField(max_length=500, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    # the raw message is erased after RAW_PAYLOAD_RETENTION_DAYS (core/raw_payloads.py), once handled
    raw_payload = RawPayload(
        age_field="received_at",
        erased={"body": b"", "headers": {}},
        busy=models.Q(status__in=[CallbackStatus.RECEIVED, CallbackStatus.QUEUED]),
    )

    class Meta:
        verbose_name = _("bank status message")
        verbose_name_plural = _("bank status messages")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="banking_callback_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id or self.pk} {self.status}"
