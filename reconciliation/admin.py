"""Reconciliation in the console (docs/reports.md §4): runs, breaks with their age, matched
pairs; read-only, for staff with ``backoffice.view_reports``. A break is resolved by an
adjustment posting through a four-eyes request, never here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.money import format_minor
from reconciliation.models import BreakState, ReconciliationBreak, ReconciliationMatch, ReconciliationRun
from reporting.admin import ReadOnlyForReports

AGE_BUCKETS = {"day": timedelta(days=1), "week": timedelta(days=7)}


def _money(minor: int | None, currency: str) -> str:
    return "-" if minor is None else f"{format_minor(minor, currency)} {currency}"


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyForReports):
    list_display = ("business_date", "provider", "mode", "verdict", "breaks", "matched", "in_flight", "finished_at")
    list_filter = ("verdict", "provider", "mode", "business_date")
    readonly_fields = [f.name for f in ReconciliationRun._meta.fields]

    @admin.display(description="breaks by kind")
    def breaks(self, run: ReconciliationRun) -> str:
        return ", ".join(f"{kind.replace('_', ' ')}: {count}" for kind, count in run.counts.items()) or "-"


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("day", "under a day"), ("week", "a day to a week"), ("older", "over a week")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "day":
            return queryset.filter(first_seen_at__gte=now - AGE_BUCKETS["day"])
        if self.value() == "week":
            return queryset.filter(
                first_seen_at__lt=now - AGE_BUCKETS["day"], first_seen_at__gte=now - AGE_BUCKETS["week"]
            )
        if self.value() == "older":
            return queryset.filter(first_seen_at__lt=now - AGE_BUCKETS["week"])
        return queryset


@admin.register(ReconciliationBreak)
class ReconciliationBreakAdmin(ReadOnlyForReports):
    list_display = (
        "break_id",
        "business_date",
        "provider",
        "kind",
        "state",
        "age",
        "ledger_amount",
        "provider_amount",
        "reference",
        "resolve",
    )
    list_filter = ("state", "kind", "provider", "mode", AgeFilter, "business_date")
    search_fields = ("break_id", "reference", "provider_reference")
    list_select_related = ("transaction",)
    raw_id_fields = ("transaction", "first_run", "last_run")
    readonly_fields = [f.name for f in ReconciliationBreak._meta.fields]

    @admin.display(description="age")
    def age(self, brk: ReconciliationBreak) -> str:
        end = brk.resolved_at or timezone.now()
        hours = int((end - brk.first_seen_at).total_seconds() // 3600)
        return f"{hours // 24} d {hours % 24} h"

    @admin.display(description="our amount")
    def ledger_amount(self, brk: ReconciliationBreak) -> str:
        return (
            "-"
            if brk.ledger_amount_minor is None
            else f"{format_minor(brk.ledger_amount_minor, brk.currency)} {brk.currency}"
        )

    @admin.display(description="provider's amount")
    def provider_amount(self, brk: ReconciliationBreak) -> str:
        if brk.provider_amount_minor is None:
            return "-"
        return f"{format_minor(brk.provider_amount_minor, brk.currency)} {brk.currency}"

    @admin.display(description="resolve")
    def resolve(self, brk: ReconciliationBreak) -> str:
        if brk.state == BreakState.RESOLVED:
            return brk.resolution
        try:
            url = reverse("admin:approvals_approvalrequest_add")
        except NoReverseMatch:  # the four-eyes requests are not installed
            return "-"
        query = urlencode({"action": "adjustment", "target": brk.break_id})
        return format_html('<a href="{}?{}">ask for an adjustment</a>', url, query)


@admin.register(ReconciliationMatch)
class ReconciliationMatchAdmin(ReadOnlyForReports):
    list_display = ("run", "transaction", "provider_reference", "amount", "provider_fee_minor")
    list_filter = ("run__provider", "run__business_date")
    search_fields = ("provider_reference", "transaction__public_id")
    list_select_related = ("run", "transaction")
    raw_id_fields = ("run", "transaction")
    readonly_fields = [f.name for f in ReconciliationMatch._meta.fields]

    @admin.display(description="amount")
    def amount(self, match: ReconciliationMatch) -> str:
        return _money(match.amount_minor, match.currency)
