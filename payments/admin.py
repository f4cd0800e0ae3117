"""Ops console for bills (STYLE.md §33): read-only; money moves only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payments.models import BillPayment, Quote


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "partner", "mode", "biller_code", "customer_reference", "total_minor", "currency",
                    "expires_at", "used_at")  # fmt: skip
    list_filter = ("mode", "biller_code", "currency", "created_at")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    search_fields = ("public_id", "customer_reference", "provider_quote_id", "bill_id")
    readonly_fields = [field.name for field in Quote._meta.fields]


@admin.register(BillPayment)
class BillPaymentAdmin(ReadOnlyAdmin):
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
