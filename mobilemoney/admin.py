"""Ops console of the mobile-money rail: everything read-only (money moves through services)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from mobilemoney.models import BatchChunk, CashIn, CashInBatch, CheckoutSession, InboundCallback


@admin.register(CashIn)
class CashInAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("transaction", "provider", "msisdn", "batch", "line", "poll_attempts", "next_poll_at")
    list_filter = ("provider", "transaction__status", "transaction__mode", "transaction__needs_review")
    search_fields = ("transaction__public_id", "msisdn", "transaction__client_reference", "provider_reference")
    list_select_related = ("transaction", "batch")
    raw_id_fields = ("transaction", "batch", "chunk")


@admin.register(CashInBatch)
class CashInBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "partner", "mode", "provider", "status", "item_count", "total_minor", "created_at")
    list_filter = ("provider", "status", "mode")
    search_fields = ("public_id",)
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)


@admin.register(BatchChunk)
class BatchChunkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("batch", "number", "status", "provider_batch_id", "attempts", "lease_until")
    list_filter = ("status",)
    list_select_related = ("batch",)
    raw_id_fields = ("batch",)


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "partner", "mode", "provider", "status", "payment_status", "client_reference")
    list_filter = ("provider", "status", "payment_status", "mode")
    search_fields = ("public_id", "client_reference", "provider_session_id")
    list_select_related = ("partner", "transaction")
    raw_id_fields = ("partner", "transaction", "refund_transaction")


@admin.register(InboundCallback)
class InboundCallbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "provider", "mode", "event_id", "event_type", "status", "flag_reason", "received_at")
    list_filter = ("provider", "status", "mode")
    search_fields = ("event_id", "transaction_public_id")
    raw_id_fields = ("delivery",)
    exclude = ("raw_body",)
    readonly_fields = ("raw_text",)

    @admin.display(description="raw body")
    def raw_text(self, row: InboundCallback) -> str:
        return bytes(row.raw_body).decode("utf-8", errors="replace")[:20_000]
