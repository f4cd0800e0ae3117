"""The comparison itself: our transactions of a day against the provider's lines (docs/reports.md §3.2).

Pure: no database, no I/O, so it is proven on its own and runs at 100,000 lines a day in
memory. A line is matched to a transaction by our reference (the transaction's public id, which
every connector sends as its reference), else by the provider's reference we stored; each
difference is classified into exactly one kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.provider_records import RecordLine, RecordStatus
from ledger.states import Status
from reconciliation.models import BreakKind

MONEY_MOVED = frozenset({Status.SUCCEEDED, Status.REVERSED})
IN_FLIGHT = frozenset({Status.PENDING, Status.PROCESSING, Status.UNKNOWN})


@dataclass(frozen=True)
class Ours:
    """What the ledger says about one transaction (a row of the day, read in bulk)."""

    pk: int
    public_id: str
    provider_reference: str
    amount_minor: int
    fee_minor: int
    currency: str
    status: str


@dataclass(frozen=True)
class Difference:
    kind: BreakKind
    ours: Ours | None
    line: RecordLine | None


@dataclass
class Comparison:
    matches: list[tuple[Ours, RecordLine]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    in_flight: int = 0


def _classify(ours: Ours, line: RecordLine, *, fee_checked: bool) -> BreakKind | None:
    if line.status is RecordStatus.SUCCEEDED and ours.status not in MONEY_MOVED:
        return BreakKind.STATUS_DIFFERS  # ours unknown/failed, theirs paid: the dangerous one
    if line.status is RecordStatus.FAILED and ours.status in MONEY_MOVED:
        return BreakKind.STATUS_DIFFERS
    if line.status is RecordStatus.REVERSED and ours.status != Status.REVERSED:
        return BreakKind.STATUS_DIFFERS
    if line.status is RecordStatus.FAILED:
        return None  # both say nothing moved
    if line.money.minor != ours.amount_minor or line.money.currency != ours.currency:
        return BreakKind.AMOUNT_DIFFERS
    if fee_checked and line.fee_minor is not None and line.fee_minor != ours.fee_minor:
        return BreakKind.FEE_DIFFERS
    return None


def compare(ours: Iterable[Ours], lines: Sequence[RecordLine], *, fee_checked: bool, complete: bool) -> Comparison:
    """Match and classify. ``complete`` False (a partial record) concludes nothing from absence."""
    by_reference: dict[str, Ours] = {}
    by_provider_reference: dict[str, Ours] = {}
    for mine in ours:
        by_reference[mine.public_id] = mine
        if mine.provider_reference:
            by_provider_reference[mine.provider_reference] = mine
    claimed: set[tuple[int, RecordStatus]] = set()
    seen: set[int] = set()
    result = Comparison()
    for line in lines:
        found = by_reference.get(line.reference) if line.reference else None
        row = found or by_provider_reference.get(line.provider_reference)
        if row is None:
            if line.status is not RecordStatus.FAILED:
                result.differences.append(Difference(BreakKind.MISSING_IN_LEDGER, None, line))
            continue
        seen.add(row.pk)
        if (row.pk, line.status) in claimed:
            result.differences.append(Difference(BreakKind.DUPLICATE_AT_PROVIDER, row, line))
            continue
        claimed.add((row.pk, line.status))
        kind = _classify(row, line, fee_checked=fee_checked)
        if kind is None:
            result.matches.append((row, line))
        else:
            result.differences.append(Difference(kind, row, line))
    for mine in by_reference.values():
        if mine.pk in seen:
            continue
        if mine.status in IN_FLIGHT:
            result.in_flight += 1
        elif mine.status in MONEY_MOVED and complete:
            result.differences.append(Difference(BreakKind.MISSING_AT_PROVIDER, mine, None))
    return result
