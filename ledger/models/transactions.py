"""Transactions (one row per money movement) and their append-only history of events."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from ledger.states import Cause, Status
from partners.models import Mode, Partner


def new_transaction_id() -> str:
    return new_id("txn")


class Kind(models.TextChoices):
    BILL_PAYMENT = "bill_payment"
    CASH_IN = "cash_in"
    COLLECTION = "collection"
    BANK_TRANSFER_IN = "bank_transfer_in"
    BANK_TRANSFER_OUT = "bank_transfer_out"
    REFUND = "refund"


# Money leaves the partner's account (a hold is placed at acceptance, captured on success) or
# arrives in it (credited on success). Every kind is exactly one of the two.
# BANK_TRANSFER_IN is named from the BANK's point of view (transfers coming into the bank from a
# partner bank's pain.001 batch) but the partner bank is the PAYER: it instructs us to credit our
# customers' accounts in core banking, so its account is held at acceptance (prefunding) and
# captured on success, like every partner-debited kind (issue 6).
OUTGOING_KINDS = frozenset(
    {Kind.BILL_PAYMENT, Kind.CASH_IN, Kind.BANK_TRANSFER_OUT, Kind.BANK_TRANSFER_IN, Kind.REFUND}
)
INCOMING_KINDS = frozenset({Kind.COLLECTION})

# Kinds where the partner's client reference names ONE money movement: a second one with the same
# reference (same partner, mode and kind) is refused while the first may still move money, i.e.
# unless it ended without moving any (failed, cancelled, expired: a failed batch item may be
# retried under its reference). Collections (a cart may open several checkout sessions), refunds
# (they carry their session's reference) and incoming bank batches (the sending bank's
# EndToEndIds) are not concerned.
UNIQUE_REFERENCE_KINDS = frozenset({Kind.CASH_IN, Kind.BILL_PAYMENT, Kind.BANK_TRANSFER_OUT})
UNIQUE_CLIENT_REFERENCE = "ledger_txn_unique_client_reference"


class Transaction(models.Model):
    """One money movement of a partner, in one mode, through one provider."""

    Kind = Kind
    Status = Status

    public_id = models.CharField(_("public id"), max_length=40, unique=True, default=new_transaction_id, editable=False)
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="transactions"
    )
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    provider = models.CharField(
        _("provider"), max_length=40, help_text="connector name, e.g. wave, orange_money, niirpay"
    )
    amount_minor = models.BigIntegerField(_("amount"))
    fee_minor = models.BigIntegerField(_("fee"), default=0)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    client_reference = models.CharField(_("client reference"), max_length=100, blank=True, default="")
    provider_reference = models.CharField(_("provider reference"), max_length=120, blank=True, default="")
    failure_code = models.CharField(_("failure code"), max_length=64, blank=True, default="")
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True, default="")
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_reason = models.CharField(
        _("review reason"), max_length=200, blank=True, default="", help_text="why staff are asked to look"
    )
    # Set when automatic processing failed unexpectedly on this row: pollers and sweepers leave it
    # alone (it would fail again) until staff resolve it; ``needs_review`` is set with it.
    set_aside_at = models.DateTimeField(_("set aside at"), null=True, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="ledger_txn_amount_positive"),
            models.CheckConstraint(condition=Q(fee_minor__gte=0), name="ledger_txn_fee_not_negative"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="ledger_txn_status_known"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="ledger_txn_kind_known"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="ledger_txn_mode_known"),
            models.UniqueConstraint(
                fields=["partner", "mode", "kind", "client_reference"],
                condition=Q(kind__in=sorted(UNIQUE_REFERENCE_KINDS))
                & ~Q(client_reference="")
                & ~Q(status__in=[Status.FAILED, Status.CANCELLED, Status.EXPIRED]),
                name=UNIQUE_CLIENT_REFERENCE,
            ),
        ]
        indexes = [
            # the partner's list (newest first) and every filter of GET /transactions ride on it
            models.Index(fields=["partner", "mode", "-created_at"], name="ledger_txn_partner_created"),
            models.Index(fields=["partner", "mode", "client_reference"], name="ledger_txn_partner_clientref"),
            # the poller looks for stale processing/unknown rows; staff filter by status
            models.Index(fields=["status", "updated_at"], name="ledger_txn_status_updated"),
            # staff filter a status over a period, newest first as the admin orders (tests/perf/test_query_plans.py)
            models.Index(fields=["status", "-created_at", "-id"], name="ledger_txn_status_created"),
            models.Index(fields=["kind", "-created_at"], name="ledger_txn_kind_created"),
            models.Index(fields=["provider", "-created_at"], name="ledger_txn_provider_created"),
            models.Index(fields=["provider_reference"], name="ledger_txn_provider_ref"),
            # staff search a client reference without knowing the partner (the admin's exact search)
            models.Index(fields=["client_reference"], name="ledger_txn_client_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.amount_minor} {self.currency} {self.status}"

    @property
    def is_outgoing(self) -> bool:
        return self.kind in OUTGOING_KINDS


class TransactionEvent(models.Model):
    """One recorded status change of a transaction (append-only; the database refuses edits)."""

    Cause = Cause

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True, default="")
    to_status = models.CharField(max_length=12, choices=Status.choices)
    cause = models.CharField(max_length=12, choices=Cause.choices)
    actor = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("transaction event")
        verbose_name_plural = _("transaction events")
        constraints = [
            models.CheckConstraint(condition=Q(cause__in=Cause.values), name="ledger_txnevent_cause_known"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} ({self.cause})"


class TransactionToResolve(Transaction):
    """A transaction staff must look at (``unknown``, or flagged for review): the admin's queue."""

    class Meta:
        proxy = True
        verbose_name = _("transaction to resolve")
        verbose_name_plural = _("transactions to resolve")
