"""Bill payments: our quotes (a priced, single-use offer to pay a bill) and the payments made with them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from ledger.models import Transaction
from partners.models import Mode, Partner


def new_quote_id() -> str:
    return new_id("qte")


def new_bill_payment_id() -> str:
    return new_id("pay")


class Quote(models.Model):
    """One priced payment offered to a partner: valid until ``expires_at``, usable once."""

    public_id = models.CharField(max_length=40, unique=True, default=new_quote_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="bill_quotes")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    provider = models.CharField(max_length=40, default="niirpay")
    biller_code = models.CharField(max_length=40)
    biller_kind = models.CharField(max_length=10)
    customer_reference = models.CharField(max_length=64)
    bill_id = models.CharField(max_length=80, blank=True, default="")
    amount_minor = models.BigIntegerField(_("amount"))
    fee_minor = models.BigIntegerField(_("fee"))
    total_minor = models.BigIntegerField(_("total"))
    currency = models.CharField(max_length=3)
    provider_quote_id = models.CharField(max_length=80)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_quote_amount_positive"),
            models.CheckConstraint(condition=Q(fee_minor__gte=0), name="payments_quote_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(total_minor=models.F("amount_minor") + models.F("fee_minor")),
                name="payments_quote_total_is_amount_plus_fee",
            ),
        ]
        indexes = [models.Index(fields=["partner", "mode", "-created_at"], name="payments_quote_partner")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.biller_code} {self.total_minor} {self.currency}"


class BillPayment(models.Model):
    """The payment of one quote: its ledger transaction, and the provider's receipt once paid."""

    public_id = models.CharField(max_length=40, unique=True, default=new_bill_payment_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="bill_payments")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    # One payment per quote and per transaction: the database refuses a second one.
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="payment")
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="bill_payment")
    biller_code = models.CharField(max_length=40)
    customer_reference = models.CharField(max_length=64)
    bill_id = models.CharField(max_length=80, blank=True, default="")
    provider_payment_id = models.CharField(max_length=120, blank=True, default="")
    receipt_number = models.CharField(max_length=80, blank=True, default="")
    tokens = models.JSONField(default=list, blank=True)  # Woyofal: three 20-digit tokens, in keying order
    kwh = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    status_queries = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bill payment")
        verbose_name_plural = _("bill payments")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "mode", "-created_at"], name="payments_billpay_partner"),
            models.Index(fields=["next_poll_at"], name="payments_billpay_next_poll"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.biller_code}"  # no customer reference: it may be a phone number
