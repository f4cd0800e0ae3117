"""The console's first page: what the gateway did lately, read from its own tables.

A handful of aggregate queries (GROUP BY over indexed columns, bounded whatever the size of the
ledger), no provider call: the page must answer while a provider is down. The result is plain
JSON-able data, embedded in the page with ``json_script`` and drawn by
``backoffice/static/backoffice/dashboard.js`` with the bundled Chart.js (docs/architecture.md §1:
the back office is the bank's operations console).

- traffic: transactions created in the window, per rail and provider: how many, the amount per
  currency, and how many ended succeeded or failed (the success rate counts final outcomes only);
- the same traffic in time buckets (hours over 24 hours, days over 30 days, in the bank's time zone);
- the ``unknown`` backlog per provider with the age of its oldest (the ops collector's selector);
- the provider float accounts of our books (the float a provider reports is a network call, made by
  ``ops.refresh_provider_floats`` in a worker, never by a page);
- batches in progress on each rail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from banking.models import BatchStatus as TransferBatchStatus
from banking.models import TransferBatch
from core.money import EXPONENTS
from ledger.models import Account, Transaction
from mobilemoney.models import CashInBatch
from mobilemoney.models.batches import BatchStatus as CashInBatchStatus
from ops.collectors import unknown_backlog

Kind = Transaction.Kind
Status = Transaction.Status

# The rail each kind of movement travels on (docs/architecture.md §2).
RAIL_OF_KIND: dict[str, str] = {
    Kind.BILL_PAYMENT: "bills",
    Kind.CASH_IN: "mobile_money",
    Kind.COLLECTION: "mobile_money",
    Kind.REFUND: "mobile_money",
    Kind.BANK_TRANSFER_IN: "banking",
    Kind.BANK_TRANSFER_OUT: "banking",
}
RAILS = ("bills", "mobile_money", "banking")
RAIL_LABELS = {"bills": _("Bills"), "mobile_money": _("Mobile money"), "banking": _("Bank transfers")}


def age_label(seconds: float | None) -> str:
    """A duration as staff read it: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 04 h`` (same in French)."""
    if seconds is None:
        return "—"
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    if days:
        return f"{days} d {hour:02d} h"
    if hours:
        return f"{hours} h {minute:02d} min"
    return f"{minutes} min" if minutes else f"{second} s"


@dataclass(frozen=True)
class Window:
    name: str
    title: str | Promise
    length: timedelta
    bucket: str  # "hour" | "day"
    buckets: int


WINDOWS = (
    Window("24h", _("Last 24 hours"), timedelta(hours=24), "hour", 24),
    Window("30d", _("Last 30 days"), timedelta(days=30), "day", 30),
)


def traffic(*, mode: str, since: datetime) -> list[dict[str, Any]]:
    """Per rail, provider and currency: created, succeeded and failed counts, and the amount.

    One query grouped by (kind, provider, currency); kinds are folded into their rail here.
    """
    rows = (
        Transaction.objects.filter(mode=mode, created_at__gte=since)
        .values("kind", "provider", "currency")
        .annotate(
            count=Count("id"),
            amount_minor=Sum("amount_minor"),
            succeeded=Count("id", filter=Q(status=Status.SUCCEEDED)),
            failed=Count("id", filter=Q(status=Status.FAILED)),
        )
        .order_by()
    )
    folded: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (RAIL_OF_KIND[row["kind"]], row["provider"], row["currency"])
        line = folded.setdefault(
            key,
            {"rail": key[0], "provider": key[1], "currency": key[2], "count": 0, "amount_minor": 0}
            | {"succeeded": 0, "failed": 0},
        )
        for field in ("count", "amount_minor", "succeeded", "failed"):
            line[field] += row[field]
    return [folded[key] for key in sorted(folded)]


def success_rates(lines: list[dict[str, Any]]) -> dict[str, float | None]:
    """``provider -> percent`` of final outcomes that succeeded (``None`` when none ended yet)."""
    ended: dict[str, tuple[int, int]] = {}
    for line in lines:
        succeeded, final = ended.get(line["provider"], (0, 0))
        ended[line["provider"]] = (succeeded + line["succeeded"], final + line["succeeded"] + line["failed"])
    return {
        provider: (round(100 * succeeded / final, 1) if final else None)
        for provider, (succeeded, final) in sorted(ended.items())
    }


def traffic_over_time(*, mode: str, window: Window, now: datetime) -> dict[str, Any]:
    """Transactions created per hour (or day) and rail, every bucket of the window present."""
    trunc = TruncHour if window.bucket == "hour" else TruncDay
    step = timedelta(hours=1) if window.bucket == "hour" else timedelta(days=1)
    local_now = timezone.localtime(now)
    last = local_now.replace(minute=0, second=0, microsecond=0)
    if window.bucket == "day":
        last = last.replace(hour=0)
    first = last - step * (window.buckets - 1)
    rows = (
        Transaction.objects.filter(mode=mode, created_at__gte=first)
        .annotate(bucket=trunc("created_at"))
        .values("bucket", "kind")
        .annotate(count=Count("id"))
        .order_by()
    )
    starts = [first + step * index for index in range(window.buckets)]
    position = {start: index for index, start in enumerate(starts)}
    counts = {rail: [0] * window.buckets for rail in RAILS}
    for row in rows:
        index = position.get(timezone.localtime(row["bucket"]))
        if index is not None:
            counts[RAIL_OF_KIND[row["kind"]]][index] += row["count"]
    label_format = "%H:%M" if window.bucket == "hour" else "%d/%m"
    return {"labels": [start.strftime(label_format) for start in starts], "counts": counts}


def backlog(*, mode: str) -> dict[str, Any]:
    """The ``unknown`` transactions per provider and the age of the oldest, in seconds."""
    per_provider = unknown_backlog(mode=mode)
    oldest = max((age for _count, age in per_provider.values()), default=None)
    return {
        "providers": {
            provider: {"count": count, "oldest_seconds": round(age)} for provider, (count, age) in per_provider.items()
        },
        "count": sum(count for count, _age in per_provider.values()),
        "oldest_seconds": None if oldest is None else round(oldest),
        "oldest_label": age_label(oldest),
    }


def provider_floats(*, mode: str) -> list[dict[str, Any]]:
    """The provider float accounts of our books in ``mode``: provider, currency, balance."""
    rows = (
        Account.objects.filter(kind=Account.Kind.PROVIDER_FLOAT, mode=mode)
        .values("provider", "currency", "balance_minor")
        .order_by("provider", "currency")
    )
    return [dict(row) for row in rows]


def batches_in_progress(*, mode: str, now: datetime) -> list[dict[str, Any]]:
    """Per rail: batches not completed yet, their items, and the age of the oldest (seconds)."""
    cash_ins = CashInBatch.objects.filter(mode=mode, status=CashInBatchStatus.PROCESSING).aggregate(
        batches=Count("id"), items=Sum("item_count"), oldest=Min("created_at")
    )
    transfers = TransferBatch.objects.filter(
        mode=mode, status__in=[TransferBatchStatus.RECEIVED, TransferBatchStatus.PROCESSING]
    ).aggregate(batches=Count("id"), items=Sum("nb_of_txs"), oldest=Min("created_at"))
    lines = []
    for rail, found in (("mobile_money", cash_ins), ("banking", transfers)):
        age = (now - found["oldest"]).total_seconds() if found["oldest"] else None
        lines.append(
            {"rail": rail, "rail_label": str(RAIL_LABELS[rail]), "batches": found["batches"]}
            | {"items": found["items"] or 0, "oldest_seconds": None if age is None else round(age)}
            | {"oldest_label": age_label(age)}
        )
    return lines


def dashboard(*, mode: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything the first page draws, for one mode (8 queries whatever the data)."""
    now = now or timezone.now()
    windows = {}
    for window in WINDOWS:
        lines = traffic(mode=mode, since=now - window.length)
        windows[window.name] = {
            "traffic": lines,
            "success_rates": success_rates(lines),
            "over_time": traffic_over_time(mode=mode, window=window, now=now),
        }
    return {
        "mode": mode,
        "rail_labels": {rail: str(label) for rail, label in RAIL_LABELS.items()},
        "exponents": EXPONENTS,
        "generated_at": now.isoformat(),
        "windows": windows,
        "unknown": backlog(mode=mode),
        "floats": provider_floats(mode=mode),
        "batches": batches_in_progress(mode=mode, now=now),
    }
