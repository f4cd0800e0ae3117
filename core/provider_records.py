"""A provider's record of a business day, as every rail's connector hands it to reconciliation.

Each connector reads its provider's own format (Wave's transaction list, Orange Money's
transaction search, Niirpay's settlement file, a bank's camt.053 statement) into these frozen
dataclasses (docs/reports.md §3); reconciliation compares them with the ledger. One shape for
every rail, so it lives here rather than once per rail (docs/conventions.md §34).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from core.money import Money


class RecordStatus(StrEnum):
    """What the provider says happened to a money movement."""

    SUCCEEDED = "succeeded"  # money moved
    FAILED = "failed"  # refused, nothing moved
    REVERSED = "reversed"  # moved, then given back


@dataclass(frozen=True)
class RecordLine:
    """One movement in the provider's record: its id, our reference as it holds it, the amount."""

    provider_reference: str
    reference: str  # our reference (the transaction's public id) as the provider echoes it; "" if none
    money: Money  # positive, in the transaction's direction
    fee_minor: int | None  # the provider's fee, None when its record does not say
    status: RecordStatus
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class DayRecord:
    """Every line a provider reports for one business day; ``complete`` False when it is partial."""

    provider: str
    business_date: date
    lines: tuple[RecordLine, ...]
    complete: bool = True
    note: str = ""


class RecordUnreadable(ValueError):
    """A record file or answer that cannot be read (wrong columns, broken XML, bad amounts)."""
