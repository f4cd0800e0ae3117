"""Checkout sessions: a payment link / QR code that collects money into the partner's account."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from ledger.models import Transaction
from partners.models import Partner


def new_checkout_session_id() -> str:
    return new_id("cos")


class CheckoutSession(models.Model):
    """One session at the provider and its ``collection`` transaction (credited when paid).

    ``status`` mirrors the provider (open → complete | expired | failed); the refund, when asked,
    is a separate ``refund`` transaction (held on the partner account, captured on success).
    """

    public_id = models.CharField(max_length=40, unique=True, default=new_checkout_session_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="checkout_sessions")
    mode = models.CharField(max_length=4)
    provider = models.CharField(max_length=20)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="checkout_session")
    refund_transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="refunded_checkout_session"
    )
    client_reference = models.CharField(max_length=100)
    provider_session_id = models.CharField(max_length=120, blank=True, default="")
    status = models.CharField(max_length=10, default="open")
    payment_status = models.CharField(max_length=12, default="processing")
    payment_url = models.URLField(max_length=1000, blank=True, default="")
    qr_payload = models.TextField(blank=True, default="")
    qr_png_base64 = models.TextField(blank=True, default="")
    app_links = models.JSONField(default=dict, blank=True)
    success_url = models.URLField(max_length=1000)
    error_url = models.URLField(max_length=1000)
    restrict_payer_msisdn = models.CharField(max_length=16, blank=True, default="")
    payer_msisdn = models.CharField(max_length=16, blank=True, default="")
    last_failure_code = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("checkout session")
        verbose_name_plural = _("checkout sessions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "mode", "-created_at"], name="mm_cos_partner_created"),
            models.Index(fields=["partner", "mode", "client_reference"], name="mm_cos_partner_clientref"),
            models.Index(fields=["provider", "provider_session_id"], name="mm_cos_provider_session"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.provider} {self.status}"
