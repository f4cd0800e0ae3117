"""The banking rail in the ops console: read-only, filterable (docs/conventions.md §33)."""

from __future__ import annotations

from django.contrib import admin

from banking.models import BankCallback, BankTransfer, TransferBatch, TransferBatchItem
from core.admin import ReadOnlyAdminMixin


@admin.register(TransferBatch)
class TransferBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "partner",
        "mode",
        "msg_id",
        "message_name",
        "nb_of_txs",
        "ctrl_sum_minor",
        "status",
        "created_at",
    )
    list_filter = ("status", "mode", "message_name")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    search_fields = ("public_id", "msg_id")
    readonly_fields = ("ctrl_sum_minor", "nb_of_txs", "currency")


@admin.register(TransferBatchItem)
class TransferBatchItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("batch", "position", "end_to_end_id", "creditor_account", "transaction", "reason_code")
    list_filter = ("reason_code", "transaction__status")
    list_select_related = ("batch", "transaction")
    raw_id_fields = ("batch", "transaction")
    search_fields = ("end_to_end_id", "batch__public_id", "transaction__public_id", "creditor_account")


@admin.register(BankTransfer)
class BankTransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "transaction",
        "end_to_end_id",
        "iban",
        "bic",
        "settlement",
        "reason_code",
        "is_submitted",
        "created_at",
    )
    list_filter = ("settlement", "reason_code", "is_submitted", "transaction__status")
    list_select_related = ("transaction",)
    raw_id_fields = ("transaction",)
    search_fields = ("transaction__public_id", "end_to_end_id", "iban")


@admin.register(BankCallback)
class BankCallbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "provider", "mode", "event_id", "status", "received_at", "applied_at")
    list_filter = ("provider", "status", "mode")
    search_fields = ("event_id",)
    exclude = ("body",)
    readonly_fields = ("raw_body",)

    @admin.display(description="body")
    def raw_body(self, obj: BankCallback) -> str:
        return bytes(obj.body).decode("utf-8", "replace")
