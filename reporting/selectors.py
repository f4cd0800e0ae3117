"""Reads of the reports (docs/reports.md §1), straight from the ledger's tables, streamed.

Every row source is a generator over a server-side cursor (``iterator(chunk_size=…)``), so a
journal of a million transactions never sits in memory. Periods are business days in the
bank's time zone (Africa/Dakar): ``date_from`` and ``date_to`` both included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from core.money import format_minor
from ledger.models import Account, Kind, LedgerEntry, Transaction, TransactionEvent
from ledger.states import FINAL, Status
from reporting.models import FloatSnapshot

CHUNK = 5000
RAIL_KINDS: dict[str, tuple[str, ...]] = {
    "bills": (Kind.BILL_PAYMENT,),
    "mobile_money": (Kind.CASH_IN, Kind.COLLECTION, Kind.REFUND),
    "banking": (Kind.BANK_TRANSFER_IN, Kind.BANK_TRANSFER_OUT),
}
JOURNAL_HEADER = (
    "created_at",
    "transaction",
    "partner",
    "mode",
    "kind",
    "provider",
    "status",
    "amount",
    "fee",
    "currency",
    "client_reference",
    "provider_reference",
    "failure_code",
    "updated_at",
)


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of ``date_from``, end of ``date_to``) in the bank's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tzinfo=zone)
    return start, datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)


def stamp(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def amount_cell(minor: int, currency: str, *, numbers: bool) -> str | Decimal:
    text = format_minor(minor, currency)
    return Decimal(text) if numbers else text


@dataclass(frozen=True)
class JournalFilter:
    date_from: date
    date_to: date
    partner: str = ""  # partner code
    mode: str = ""
    rail: str = ""
    provider: str = ""
    status: str = ""

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.__dict__.items() if value}


def journal_queryset(journal: JournalFilter) -> QuerySet[Transaction]:
    start, end = period_bounds(journal.date_from, journal.date_to)
    rows = Transaction.objects.filter(created_at__gte=start, created_at__lt=end)
    if journal.partner:
        rows = rows.filter(partner__code=journal.partner)
    if journal.rail:
        rows = rows.filter(kind__in=RAIL_KINDS[journal.rail])
    for name in ("mode", "provider", "status"):
        if getattr(journal, name):
            rows = rows.filter(**{name: getattr(journal, name)})
    return rows.order_by("created_at", "id")


def journal_rows(journal: JournalFilter, *, numbers: bool = False) -> Iterator[tuple[Any, ...]]:
    """The journal's rows in time order; amounts as decimal strings (or ``Decimal`` for XLSX)."""
    fields = (
        "created_at",
        "public_id",
        "partner__code",
        "mode",
        "kind",
        "provider",
        "status",
        "amount_minor",
        "fee_minor",
        "currency",
        "client_reference",
        "provider_reference",
        "failure_code",
        "updated_at",
    )
    for row in journal_queryset(journal).values_list(*fields).iterator(chunk_size=CHUNK):
        created, public_id, partner, mode, kind, provider, status, amount, fee, currency, *rest = row
        yield (
            stamp(created),
            public_id,
            partner,
            mode,
            kind,
            provider,
            status,
            amount_cell(amount, currency, numbers=numbers),
            amount_cell(fee, currency, numbers=numbers),
            currency,
            rest[0],
            rest[1],
            rest[2],
            stamp(rest[3]),
        )


# --- statements --------------------------------------------------------------------------------

STATEMENT_HEADER = ("booked_at", "entry", "transaction", "description", "amount", "balance_after", "currency")


@dataclass(frozen=True)
class Statement:
    """An account over a period: opening balance + Σ entries = closing balance."""

    account: Account
    date_from: date
    date_to: date
    opening_minor: int
    closing_minor: int
    entry_count: int

    def entries(self) -> QuerySet[LedgerEntry]:
        start, end = period_bounds(self.date_from, self.date_to)
        return (
            LedgerEntry.objects.filter(account=self.account, created_at__gte=start, created_at__lt=end)
            .select_related("posting", "transaction")
            .order_by("id")
        )


def statement_of(*, account: Account, date_from: date, date_to: date) -> Statement:
    start, end = period_bounds(date_from, date_to)
    before = LedgerEntry.objects.filter(account=account, created_at__lt=start).order_by("-id").first()
    opening = before.balance_after_minor if before is not None else 0
    period = LedgerEntry.objects.filter(account=account, created_at__gte=start, created_at__lt=end)
    totals = period.aggregate(total=Sum("amount_minor"))
    count = period.count()
    closing = opening + (totals["total"] or 0)
    return Statement(account, date_from, date_to, opening, closing, count)


def statement_rows(statement: Statement, *, numbers: bool = False) -> Iterator[tuple[Any, ...]]:
    currency = statement.account.currency
    entries = statement.entries().values_list(
        "created_at", "id", "transaction__public_id", "posting__description", "amount_minor", "balance_after_minor"
    )
    for created, pk, public_id, description, amount, after in entries.iterator(chunk_size=CHUNK):
        yield (
            stamp(created),
            pk,
            public_id or "",
            description,
            amount_cell(amount, currency, numbers=numbers),
            amount_cell(after, currency, numbers=numbers),
            currency,
        )


# --- the daily summary -------------------------------------------------------------------------

SUMMARY_STATUSES = tuple(Status.values)
SUMMARY_HEADER = (
    "day",
    "provider",
    "partner",
    "currency",
    "count",
    *(f"count_{status}" for status in SUMMARY_STATUSES),
    *(f"amount_{status}" for status in SUMMARY_STATUSES),
    "fees_succeeded",
    "success_rate",
    "avg_seconds_to_final",
    "p95_seconds_to_final",
)


def _summary_sql() -> str:
    final = sorted({*FINAL, Status.SUCCEEDED})
    finals = ", ".join(f"'{status}'" for status in final)
    counts = ", ".join(f"COUNT(*) FILTER (WHERE t.status = '{s}')" for s in SUMMARY_STATUSES)
    amounts = ", ".join(f"COALESCE(SUM(t.amount_minor) FILTER (WHERE t.status = '{s}'), 0)" for s in SUMMARY_STATUSES)
    # Only our own status constants and table names are interpolated; values are parameters.
    return f"""
        SELECT t.provider, COALESCE(p.code, '*'), t.currency, COUNT(*), {counts}, {amounts},
               COALESCE(SUM(t.fee_minor) FILTER (WHERE t.status = 'succeeded'), 0),
               AVG(EXTRACT(EPOCH FROM f.final_at - t.created_at)),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM f.final_at - t.created_at))
        FROM {Transaction._meta.db_table} t
        JOIN partners_partner p ON p.id = t.partner_id
        LEFT JOIN LATERAL (
            SELECT MIN(e.created_at) AS final_at FROM {TransactionEvent._meta.db_table} e
            WHERE e.transaction_id = t.id AND e.to_status IN ({finals})
        ) f ON TRUE
        WHERE t.mode = %s AND t.created_at >= %s AND t.created_at < %s
        GROUP BY GROUPING SETS ((t.provider, p.code, t.currency), (t.provider, t.currency))
        ORDER BY t.provider, t.currency, p.code NULLS LAST
    """  # noqa: S608


def daily_summary_rows(*, day: date, mode: str) -> Iterator[tuple[Any, ...]]:
    """Per provider and partner (and per provider, partner ``*``): counts and amounts by status,
    fees, success rate (succeeded / (succeeded + failed)), average and p95 time to a final state."""
    start, end = period_bounds(day, day)
    width = len(SUMMARY_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(_summary_sql(), [mode, start, end])
        for row in cursor.fetchall():
            provider, partner, currency, count = row[:4]
            by_status = dict(zip(SUMMARY_STATUSES, row[4 : 4 + width], strict=True))
            amounts = [format_minor(int(v), currency) for v in row[4 + width : 4 + 2 * width]]
            fees, average, p95 = row[4 + 2 * width :]
            decided = by_status[Status.SUCCEEDED] + by_status[Status.FAILED]
            rate = f"{by_status[Status.SUCCEEDED] / decided:.4f}" if decided else ""
            yield (
                day.isoformat(),
                provider,
                partner,
                currency,
                count,
                *by_status.values(),
                *amounts,
                format_minor(int(fees), currency),
                rate,
                "" if average is None else f"{float(average):.3f}",
                "" if p95 is None else f"{float(p95):.3f}",
            )


# --- the float position ------------------------------------------------------------------------

FLOAT_HEADER = (
    "day",
    "provider",
    "mode",
    "currency",
    "ledger_float_balance",
    "ledger_float_movement",
    "provider_reported_balance",
    "provider_reported_at",
    "provider_reported_change",
)


def _ledger_float(account: Account, start: datetime, end: datetime) -> tuple[int, int]:
    """The float account's balance at ``end`` and its movement over [start, end)."""
    last = LedgerEntry.objects.filter(account=account, created_at__lt=end).order_by("-id").first()
    moved = LedgerEntry.objects.filter(account=account, created_at__gte=start, created_at__lt=end).aggregate(
        total=Sum("amount_minor")
    )
    return (last.balance_after_minor if last else 0), moved["total"] or 0


def float_position_rows(*, day: date, mode: str) -> Iterator[tuple[Any, ...]]:
    """Per provider: our float account at the end of the day (and its movement that day) next
    to the last balance the provider reported that day (and its change since the day before)."""
    start, end = period_bounds(day, day)
    accounts = Account.objects.filter(kind=Account.Kind.PROVIDER_FLOAT, mode=mode).order_by("provider", "currency")
    for account in accounts:
        balance, moved = _ledger_float(account, start, end)
        snapshots = FloatSnapshot.objects.filter(provider=account.provider, mode=mode, currency=account.currency)
        last = snapshots.filter(taken_at__gte=start, taken_at__lt=end).order_by("-taken_at").first()
        before = snapshots.filter(taken_at__lt=start).order_by("-taken_at").first()
        change = last.reported_minor - before.reported_minor if last and before else None
        yield (
            day.isoformat(),
            account.provider,
            mode,
            account.currency,
            format_minor(balance, account.currency),
            format_minor(moved, account.currency),
            format_minor(last.reported_minor, account.currency) if last else "",
            stamp(last.taken_at) if last else "",
            format_minor(change, account.currency) if change is not None else "",
        )
