"""Ops console of the mobile-money rail (docs/conventions.md §33, §38): read-only pages, batches
with their progress, the callback inbox with "apply again" (through the rail's service, audited).
Phone numbers are masked unless the reader may see personal data (core/staff.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import display
from core.admin import ActingAdminMixin, BatchProgressMixin, ConsoleAdmin, TransactionColumnsMixin
from ledger.admin import TimelineEntry, audited_each, search_source, search_transactions, timeline_source
from ledger.models import Transaction
from mobilemoney.models import BatchChunk, CashIn, CashInBatch, CheckoutSession, InboundCallback
from mobilemoney.selectors import (
    PROGRESS_STATUSES,
    batches_with_progress,
    callbacks_about,
    msisdn_normalise,
    transaction_ids_for_msisdn,
)
from mobilemoney.services.callback_retry import callback_apply_again


@search_source
def _by_msisdn(term: str) -> Q | None:
    msisdn = msisdn_normalise(term)
    if not msisdn:
        return None
    # ids, not a subquery: OR'd with the other matches a subquery makes PostgreSQL read every
    # transaction, a list of ids is an index scan (tests/perf/test_query_plans.py)
    return Q(pk__in=[row["transaction_id"] for row in transaction_ids_for_msisdn(msisdn)])


@timeline_source
def _callbacks(transaction: Transaction) -> Iterable[TimelineEntry]:
    for row in callbacks_about(transaction):
        detail = f"{row.provider} {row.event_type}".strip() + (f" · {row.flag_reason}" if row.flag_reason else "")
        yield TimelineEntry(row.received_at, str(_("Inbound callback")), detail, row.status, row)
        if row.applied_at is not None:
            yield TimelineEntry(row.applied_at, str(_("Callback applied")), row.event_type, "applied", row, order=1)


class CashInSearchMixin:
    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        ids = search_transactions(Transaction.objects.all(), search_term).values("pk") if search_term.strip() else None
        return (queryset.filter(transaction__in=ids) if ids is not None else queryset), False


@admin.register(CashIn)
class CashInAdmin(CashInSearchMixin, TransactionColumnsMixin, ConsoleAdmin):
    list_display = ("transaction", "provider", "msisdn", "amount", "status", "batch", "line", "next_poll_at")
    list_filter = ("provider", "transaction__status", "transaction__mode", "transaction__needs_review")
    search_fields = ("transaction__public_id",)
    search_help_text = _("Public id, client or provider reference, or a phone number (exact)")
    list_select_related = ("transaction", "batch")
    msisdn_fields = ("msisdn",)
    fields = ("transaction", "provider", "msisdn", "recipient_name", "reason", "amount", "status",
              "provider_reference", "poll_attempts", "next_poll_at", "batch", "chunk", "line", "retry_of",
              "superseded", "created_at")  # fmt: skip


@admin.register(CashInBatch)
class CashInBatchAdmin(BatchProgressMixin, ConsoleAdmin):
    progress_statuses = PROGRESS_STATUSES
    items_changelist = "admin:mobilemoney_cashin_changelist"
    list_display = ("public_id", "partner", "provider", "status", "progress", "total_minor", "created_at")
    list_filter = ("provider", "status", "mode")
    search_fields = ("=public_id",)
    list_select_related = ("partner",)
    fields = ("public_id", "partner", "mode", "provider", "status", "progress", "item_count", "total_minor",
              "currency", "items_link", "created_at", "completed_at")  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[CashInBatch]:
        return batches_with_progress(super().get_queryset(request))


@admin.register(BatchChunk)
class BatchChunkAdmin(ConsoleAdmin):
    list_display = ("batch", "number", "status", "provider_batch_id", "attempts", "lease_until")
    list_filter = ("status",)
    list_select_related = ("batch",)


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ConsoleAdmin):
    list_display = ("public_id", "partner", "provider", "status", "payment_status", "client_reference", "created_at")
    list_filter = ("provider", "status", "payment_status", "mode")
    search_fields = ("=public_id", "=client_reference", "=provider_session_id")
    list_select_related = ("partner", "transaction")
    msisdn_fields = ("restrict_payer_msisdn", "payer_msisdn")
    payload_fields = ("qr_payload",)
    hidden_fields = ("qr_png_base64",)


class CallbackStatusFilter(admin.SimpleListFilter):
    title = _("needs staff")
    parameter_name = "to_apply"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("yes", _("Flagged events (can be applied again)"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(status="flagged", delivery__isnull=False).exclude(event_id="")
        return queryset


@admin.register(InboundCallback)
class InboundCallbackAdmin(ActingAdminMixin, ConsoleAdmin):
    list_display = ("pk", "provider", "event_type", "status", "flag_reason", "transaction", "received_at")
    list_filter = (CallbackStatusFilter, "provider", "status", "mode")
    search_fields = ("=event_id", "=transaction_public_id")
    payload_fields = ("raw_body", "headers", "event")
    fields = ("provider", "mode", "delivery", "event_id", "event_type", "status", "flag_reason", "transaction",
              "received_at", "applied_at", "event", "headers", "raw_body")  # fmt: skip
    list_select_related = ("delivery",)
    actions = ("apply_again",)

    @admin.display(description=_("transaction"), ordering="transaction_public_id")
    def transaction(self, obj: InboundCallback) -> SafeString:
        if not obj.transaction_public_id:
            return format_html("{}", display.EMPTY)
        url = reverse("admin:ledger_transaction_changelist") + "?" + urlencode({"q": obj.transaction_public_id})
        return format_html('<a href="{}">{}</a>', url, obj.transaction_public_id)

    @admin.action(description=_("Apply the selected events again"), permissions=("act",))
    def apply_again(self, request: HttpRequest, queryset: QuerySet[InboundCallback]) -> None:
        done = audited_each(
            request, queryset.values_list("pk", flat=True), action="callback.apply_again",
            target="mobilemoney.inboundcallback", run=lambda pk: callback_apply_again(callback_id=pk),
        )  # fmt: skip
        applied = sum(done)
        text = ngettext("%(n)d event applied.", "%(n)d events applied.", applied) % {"n": applied}
        self.message_user(request, text, messages.SUCCESS if applied else messages.WARNING)
