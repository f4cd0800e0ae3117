"""The ledger in the ops console: searchable, filterable, and read-only (docs/conventions.md §33).

Money, history and idempotency rows are written by services only; staff actions that move
money (reversal, manual resolution) arrive as four-eyes workflows, not as edit forms.
"""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from ledger.models import (
    Account,
    Hold,
    IdempotencyRecord,
    LedgerEntry,
    OutboxEvent,
    Posting,
    Transaction,
    TransactionEvent,
)


class TransactionEventInline(ReadOnlyInline):
    model = TransactionEvent
    fields = ("created_at", "from_status", "to_status", "cause", "actor", "detail")
    readonly_fields = fields


class EntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ("account", "amount_minor", "currency", "balance_after_minor", "created_at")
    readonly_fields = fields


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "partner",
        "mode",
        "kind",
        "provider",
        "amount_minor",
        "fee_minor",
        "currency",
        "status",
        "needs_review",
        "client_reference",
        "created_at",
    )
    list_filter = ("status", "mode", "kind", "provider", "needs_review", "currency", "created_at")
    search_fields = ("=public_id", "=client_reference", "=provider_reference", "partner__code")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (TransactionEventInline,)


@admin.register(TransactionEvent)
class TransactionEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("transaction", "from_status", "to_status", "cause", "created_at")
    list_filter = ("to_status", "cause", "created_at")
    search_fields = ("=transaction__public_id",)
    list_select_related = ("transaction",)
    raw_id_fields = ("transaction",)
    show_full_result_count = False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "kind",
        "partner",
        "provider",
        "mode",
        "currency",
        "balance_minor",
        "held_minor",
        "overdraft_limit_minor",
        "updated_at",
    )
    list_filter = ("kind", "mode", "currency", "provider")
    search_fields = ("=public_id", "partner__code", "partner__name")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "description", "transaction", "created_at")
    search_fields = ("=transaction__public_id", "description")
    list_filter = ("created_at",)
    list_select_related = ("transaction",)
    raw_id_fields = ("transaction",)
    show_full_result_count = False
    inlines = (EntryInline,)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "posting", "account", "amount_minor", "currency", "balance_after_minor", "created_at")
    list_filter = ("currency", "account__kind", "account__mode", "created_at")
    search_fields = ("=account__public_id", "=transaction__public_id")
    list_select_related = ("account", "account__partner", "posting")
    raw_id_fields = ("account", "posting", "transaction")
    show_full_result_count = False


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("transaction", "account", "amount_minor", "currency", "status", "created_at", "updated_at")
    list_filter = ("status", "currency")
    search_fields = ("=transaction__public_id", "=account__public_id")
    list_select_related = ("transaction", "account", "account__partner")
    raw_id_fields = ("transaction", "account")
    show_full_result_count = False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "partner", "mode", "state", "response_status", "created_at", "expires_at")
    list_filter = ("state", "mode", "response_status")
    search_fields = ("=key", "partner__code")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    exclude = ("response_body",)  # bytes: shown through the status and headers, never as a form field
    show_full_result_count = False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "type", "aggregate_id", "partner", "mode", "created_at", "published_at", "attempts")
    list_filter = ("type", "aggregate_type", "mode", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("=public_id", "=aggregate_id")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    show_full_result_count = False
