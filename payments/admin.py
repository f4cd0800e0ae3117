"""Ops console for bills (docs/conventions.md §33, §38): read-only; money moves only through the
services. A customer reference may be a phone number (airtime): masked unless the reader may see it."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ConsoleAdmin, TransactionColumnsMixin
from ledger.admin import TimelineEntry, timeline_source
from ledger.models import Transaction
from payments.models import BillPayment, Quote
from payments.selectors import bill_payment_about


@timeline_source
def _bill_payment(transaction: Transaction) -> Iterable[TimelineEntry]:
    payment = bill_payment_about(transaction.pk)
    if payment is not None:
        detail = f"{payment.biller_code} · {payment.receipt_number or '—'}"
        yield TimelineEntry(payment.created_at, str(_("Bill payment")), detail, target=payment)


@admin.register(Quote)
class QuoteAdmin(ConsoleAdmin):
    list_display = ("public_id", "partner", "biller_code", "customer_reference", "total_minor", "expires_at", "used_at")
    list_filter = ("mode", "biller_code", "currency", "created_at")
    list_select_related = ("partner",)
    search_fields = ("=public_id", "=customer_reference", "=provider_quote_id", "=bill_id")
    personal_text_fields = ("customer_reference",)


@admin.register(BillPayment)
class BillPaymentAdmin(TransactionColumnsMixin, ConsoleAdmin):
    list_display = ("public_id", "partner", "biller_code", "customer_reference", "amount", "status",
                    "receipt_number", "created_at")  # fmt: skip
    list_filter = ("mode", "biller_code", "transaction__status", "transaction__needs_review", "created_at")
    list_select_related = ("partner", "transaction", "quote")
    search_fields = ("=public_id", "=customer_reference", "=transaction__public_id", "=provider_payment_id",
                     "=receipt_number")  # fmt: skip
    personal_text_fields = ("customer_reference",)
    payload_fields = ("tokens",)
