"""Ops console for bills (docs/conventions.md §33): read-only; money moves only through the services."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from payments.models import BillPayment, Quote


@admin.register(Quote)
class QuoteAdmin(ReadOnlyModelAdmin):
    list_display = ("public_id", "partner", "mode", "biller_code", "customer_reference", "total_minor", "currency",
                    "expires_at", "used_at")  # fmt: skip
    list_filter = ("mode", "biller_code", "currency", "created_at")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    search_fields = ("public_id", "customer_reference", "provider_quote_id", "bill_id")
    readonly_fields = [field.name for field in Quote._meta.fields]


@admin.register(BillPayment)
class BillPaymentAdmin(ReadOnlyModelAdmin):
    list_display = ("public_id", "partner", "mode", "biller_code", "customer_reference", "transaction_status",
                    "receipt_number", "created_at")  # fmt: skip
    list_filter = ("mode", "biller_code", "transaction__status", "transaction__needs_review", "created_at")
    list_select_related = ("partner", "transaction", "quote")
    raw_id_fields = ("partner", "transaction", "quote")
    search_fields = ("public_id", "customer_reference", "transaction__public_id", "provider_payment_id",
                     "receipt_number")  # fmt: skip
    readonly_fields = [field.name for field in BillPayment._meta.fields]

    @admin.display(description="status", ordering="transaction__status")
    def transaction_status(self, obj: BillPayment) -> str:
        return obj.transaction.status
