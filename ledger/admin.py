"""The ledger in the ops console: searchable, filterable, and read-only (docs/conventions.md §33, §38).

Money, history and idempotency rows are written by services only; staff actions that move
money (force-resolve, reversal) are four-eyes requests, linked from the transaction's page.

The transaction's page shows its whole timeline. The ledger knows its own rows (events, entries,
the hold, provider calls, outbox rows); the rails add theirs (callbacks, webhooks, pushes…) and
their searches (a phone number) by registering with ``timeline_source`` / ``search_source`` from
their own admin modules, so that dependencies keep pointing one way (docs/architecture.md §2,
docs/console.md §3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from backoffice.audit import audit_record
from core import display
from core.admin import ConsoleAdmin, ConsoleInline, admin_url, link
from ledger.models import (
    Account,
    Hold,
    IdempotencyRecord,
    LedgerEntry,
    OutboxEvent,
    Posting,
    ProviderCall,
    Transaction,
    TransactionEvent,
    TransactionToResolve,
)
from ledger.selectors import transaction_timeline_rows
from ledger.states import Status

# --- the timeline and the searches the rails add ----------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One dated line of a transaction's timeline."""

    at: datetime
    what: str
    detail: str | SafeString = ""
    status: str = ""
    target: Any = None  # the row's admin page is linked
    order: int = field(default=0, compare=False)


TimelineSource = Callable[[Transaction], Iterable[TimelineEntry]]
SearchSource = Callable[[str], Q | None]
TIMELINE_SOURCES: list[TimelineSource] = []
SEARCH_SOURCES: list[SearchSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    TIMELINE_SOURCES.append(source)
    return source


def search_source(source: SearchSource) -> SearchSource:
    SEARCH_SOURCES.append(source)
    return source


@timeline_source
def _ledger_rows(transaction: Transaction) -> Iterable[TimelineEntry]:
    rows = transaction_timeline_rows(transaction)
    for event in rows.events:
        change = f"{display.label(event.from_status)} → {display.label(event.to_status)}"
        yield TimelineEntry(
            event.created_at, str(_("State")), f"{change} ({display.label(event.cause)})", event.to_status, event
        )
    for entry in rows.entries:
        yield TimelineEntry(
            entry.created_at,
            str(_("Ledger entry")),
            f"{display.signed_amount(entry.amount_minor, entry.currency)} · {entry.account}",
            target=entry,
        )
    if rows.hold is not None:
        hold = rows.hold
        yield TimelineEntry(
            hold.created_at, str(_("Hold placed")), display.amount(hold.amount_minor, hold.currency), "placed", hold
        )
        if hold.status != Hold.Status.PLACED:
            yield TimelineEntry(hold.updated_at, str(_("Hold")), "", hold.status, hold, order=1)
    for call in rows.calls:
        latency = f"{display.grouped(call.latency_ms)} ms" if call.latency_ms is not None else _("no answer yet")
        detail = f"{call.provider} {call.operation} · HTTP {call.http_status or '—'} · {latency}"
        if call.error_code:
            detail += f" · {call.error_code}"
        yield TimelineEntry(call.started_at, str(_("Provider call")), detail, call.outcome, call)
    for row in rows.outbox:
        yield TimelineEntry(row.created_at, str(_("Outbox event")), row.type, target=row)
        if row.published_at is not None:
            yield TimelineEntry(row.published_at, str(_("Published")), row.type, "delivered", row, order=1)


def transaction_timeline(transaction: Transaction) -> list[TimelineEntry]:
    """Every dated fact about ``transaction``, oldest first (then in the order they happened)."""
    entries = [entry for source in TIMELINE_SOURCES for entry in source(transaction)]
    return sorted(entries, key=lambda entry: (entry.at, entry.order))


def four_eyes_links(transaction: Transaction) -> list[tuple[str, str]]:
    """Links to the four-eyes request form for the actions the transaction's state allows."""
    try:
        form = reverse("admin:approvals_approvalrequest_add")
    except NoReverseMatch:  # the four-eyes app is not installed: no link to a page that does not exist
        return []
    actions = []
    if transaction.status == Status.UNKNOWN or (transaction.needs_review and transaction.status == Status.PROCESSING):
        actions.append(("force_resolve", str(_("Force-resolve"))))
    if transaction.status == Status.SUCCEEDED:
        actions.append(("reverse", str(_("Reverse"))))
    return [(f"{form}?{urlencode({'action': code, 'target': transaction.public_id})}", text) for code, text in actions]


def audited_each(
    request: HttpRequest, keys: Iterable[Any], *, action: str, target: str, run: Callable[[Any], Any]
) -> list[Any]:
    """Run a staff action's service on each selected row, one audit record per row (what was
    asked, on what, and what the service answered); returns the services' answers."""
    results = []
    for key in keys:
        result = run(key)
        data = {"result": result if isinstance(result, bool | int | str) else str(result)}
        audit_record(actor=request.user, action=action, target=f"{target}:{key}", data=data, request=request)
        results.append(result)
    return results


# --- filters ---------------------------------------------------------------------------------------

RAILS = {
    "bills": ("bill_payment",),
    "mobile_money": ("cash_in", "collection", "refund"),
    "banking": ("bank_transfer_in", "bank_transfer_out"),
}


class RailFilter(admin.SimpleListFilter):
    title = _("rail")
    parameter_name = "rail"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("bills", _("Bills")), ("mobile_money", _("Mobile money")), ("banking", _("Banking"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        kinds = RAILS.get(self.value() or "")
        return queryset.filter(kind__in=kinds) if kinds else queryset


AGE_BUCKETS = {"lt1h": (None, timedelta(hours=1)), "1to24h": (timedelta(hours=1), timedelta(hours=24)),
               "gt24h": (timedelta(hours=24), None)}  # fmt: skip


def age_bucket(created_at: datetime, now: datetime) -> str:
    age = now - created_at
    return "lt1h" if age < timedelta(hours=1) else ("1to24h" if age < timedelta(hours=24) else "gt24h")


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("lt1h", _("Less than 1 hour")), ("1to24h", _("1 to 24 hours")), ("gt24h", _("More than 24 hours"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        bucket = AGE_BUCKETS.get(self.value() or "")
        if bucket is None:
            return queryset
        now, (younger, older) = timezone.now(), bucket
        if younger is not None:
            queryset = queryset.filter(created_at__lte=now - younger)
        if older is not None:
            queryset = queryset.filter(created_at__gt=now - older)
        return queryset


# --- transactions ----------------------------------------------------------------------------------


def search_transactions(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """Exact matches only, each on an index: public id, client or provider reference, and what the
    rails add (a normalised phone number)."""
    term = term.strip()
    if not term:
        return queryset
    match = Q(public_id=term) | Q(client_reference=term) | Q(provider_reference=term)
    for source in SEARCH_SOURCES:
        extra = source(term)
        if extra is not None:
            match |= extra
    return queryset.filter(match)


class TransactionAdminBase(ConsoleAdmin):
    # the key columns fit a 1,366-pixel screen; the provider, references and fee are filters and details
    list_display = ("public_id", "partner", "kind", "amount_minor", "state", "created_at")
    list_filter = ("status", "mode", RailFilter, "provider", "needs_review", "partner", "created_at")
    search_fields = ("public_id",)  # the search box; the matching is search_transactions's
    search_help_text = _("Public id, client or provider reference, or a phone number (exact)")
    list_select_related = ("partner",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("public_id", "partner", "mode", "kind", "provider", "status", "needs_review",
                           "review_reason", "set_aside_at")}),
        (_("Money"), {"fields": ("amount_minor", "fee_minor", "currency")}),
        (_("References"), {"fields": ("client_reference", "provider_reference", "failure_code", "failure_message",
                                      "metadata", "created_at", "updated_at")}),
    )  # fmt: skip
    change_form_template = "admin/ledger/transaction/change_form.html"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        return search_transactions(queryset, search_term), False

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj: Transaction) -> SafeString:
        """The status badge, and a review mark only on the rows staff are asked to look at."""
        return format_html("{} {}", display.badge(obj.status), display.review_mark(obj.needs_review, obj.review_reason))

    def changeform_view(
        self, request: HttpRequest, object_id: Any = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        transaction = self.get_object(request, object_id) if object_id else None
        if transaction is not None:
            extra_context = {
                **(extra_context or {}),
                "timeline": [
                    {
                        "at": display.moment(entry.at),
                        "what": entry.what,
                        "status": display.badge(entry.status) if entry.status else "",
                        "detail": entry.detail,
                        "url": admin_url(entry.target),
                        "model": entry.target._meta.label_lower if entry.target is not None else "",
                    }
                    for entry in transaction_timeline(transaction)
                ],
                "four_eyes": four_eyes_links(transaction),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Transaction)
class TransactionAdmin(TransactionAdminBase):
    pass


@admin.register(TransactionToResolve)
class TransactionToResolveAdmin(TransactionAdminBase):
    """The queue staff work from: ``unknown`` and flagged transactions, oldest first, by age."""

    list_display = ("public_id", "partner", "kind", "amount_minor", "state", "age", "requests")  # type: ignore[assignment]
    list_filter = (AgeFilter, "status", RailFilter, "provider", "partner")  # type: ignore[assignment]
    ordering = ("created_at", "id")
    date_hierarchy = None  # type: ignore[assignment]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(Q(status=Status.UNKNOWN) | Q(needs_review=True))

    @admin.display(description=_("four-eyes"))
    def requests(self, obj: Transaction) -> SafeString:
        links = four_eyes_links(obj)
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links) if links else SafeString("")

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj: Transaction) -> SafeString:
        now = timezone.now()
        bucket, age = age_bucket(obj.created_at, now), display.duration(now - obj.created_at)
        return format_html('<span class="ap-age ap-age-{}">{}</span>', bucket, age)


@admin.register(TransactionEvent)
class TransactionEventAdmin(ConsoleAdmin):
    list_display = ("transaction", "from_status", "to_status", "cause", "created_at")
    list_filter = ("to_status", "cause", "created_at")
    search_fields = ("=transaction__public_id",)
    list_select_related = ("transaction",)


@admin.register(Account)
class AccountAdmin(ConsoleAdmin):
    list_display = ("public_id", "kind", "partner", "provider", "mode", "balance_minor", "held_minor", "available",
                    "updated_at")  # fmt: skip
    list_filter = ("kind", "mode", "currency", "provider")
    search_fields = ("=public_id", "partner__code", "partner__name")
    list_select_related = ("partner",)
    fields = ("public_id", "kind", "partner", "provider", "mode", "currency", "balance_minor", "held_minor",
              "available", "overdraft_limit_minor", "created_at", "updated_at")  # fmt: skip

    @admin.display(description=_("available"))
    def available(self, obj: Account) -> str:
        return display.amount(obj.available_minor, obj.currency)


class EntryInline(ConsoleInline):
    model = LedgerEntry
    fields = ("account", "amount_minor", "balance_after_minor", "created_at")


@admin.register(Posting)
class PostingAdmin(ConsoleAdmin):
    list_display = ("id", "description", "transaction", "created_at")
    search_fields = ("=transaction__public_id", "description")
    list_filter = ("created_at",)
    list_select_related = ("transaction",)
    inlines = (EntryInline,)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ConsoleAdmin):
    list_display = ("id", "posting", "account", "signed", "balance_after_minor", "created_at")
    list_filter = ("currency", "account__kind", "account__mode", "created_at")
    search_fields = ("=account__public_id", "=transaction__public_id")
    list_select_related = ("account", "account__partner", "posting")

    @admin.display(description=_("amount"), ordering="amount_minor")
    def signed(self, obj: LedgerEntry) -> str:
        return display.signed_amount(obj.amount_minor, obj.currency)


@admin.register(Hold)
class HoldAdmin(ConsoleAdmin):
    list_display = ("transaction", "account", "amount_minor", "status", "created_at", "updated_at")
    list_filter = ("status", "currency")
    search_fields = ("=transaction__public_id", "=account__public_id")
    list_select_related = ("transaction", "account", "account__partner")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ConsoleAdmin):
    list_display = ("key", "partner", "mode", "state", "response_status", "created_at", "expires_at")
    list_filter = ("state", "mode", "response_status")
    search_fields = ("=key", "partner__code")
    list_select_related = ("partner",)
    hidden_fields = ("response_body",)  # bytes of the stored answer: its status and headers are shown


@admin.register(OutboxEvent)
class OutboxEventAdmin(ConsoleAdmin):
    list_display = ("public_id", "type", "aggregate_id", "partner", "mode", "created_at", "published_at", "attempts")
    list_filter = ("type", "aggregate_type", "mode", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("=public_id", "=aggregate_id")
    list_select_related = ("partner",)


@admin.register(ProviderCall)
class ProviderCallAdmin(ConsoleAdmin):
    list_display = ("started_at", "provider", "operation", "transaction", "outcome", "http_status", "latency",
                    "error_code")  # fmt: skip
    list_filter = ("rail", "provider", "outcome", "mode", "operation")
    search_fields = ("=reference", "=transaction__public_id")
    list_select_related = ("transaction",)

    @admin.display(description=_("latency"), ordering="latency_ms")
    def latency(self, obj: ProviderCall) -> str:
        return f"{display.grouped(obj.latency_ms)} ms" if obj.latency_ms is not None else display.EMPTY


__all__ = ["TimelineEntry", "audited_each", "link", "search_source", "timeline_source", "transaction_timeline"]
