"""Niirpay's settlement file (CSV) read into a day's record (docs/providers/niirpay.md §12).

The columns are those of the settlement file Niirpay is known to send; ``niirPay Transaction
ID`` may be spelt ``GUTRANSACTIONID``. Every line is a settled (paid) payment. The file may
come from ``GET v1/settlements/{date}`` or be imported by staff (the same reader).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date

from core.errors import ValidationFailed
from core.money import Money
from core.provider_records import DayRecord, RecordLine, RecordStatus, RecordUnreadable

SETTLEMENT_COLUMNS = (
    "Transaction Date",
    "niirPay Transaction ID",
    "Operator Transaction ID",
    "reference",
    "amount",
    "fees",
    "commissions_operator_amount",
    "currency",
)
ALIASES = {"GUTRANSACTIONID": "niirPay Transaction ID"}
REQUIRED = ("niirPay Transaction ID", "reference", "amount", "fees", "currency")


def _money(value: str, currency: str, where: str) -> Money:
    try:
        return Money.parse(value.strip(), currency.strip(), allow_zero=True)
    except ValidationFailed as exc:
        raise RecordUnreadable(f"{where}: {exc.detail}") from None


def settlement_lines(rows: Iterable[str]) -> list[RecordLine]:
    """The lines of a settlement file given as text lines (a BOM is tolerated)."""
    reader = csv.reader(rows)
    header = [ALIASES.get(name.strip().lstrip("\ufeff"), name.strip().lstrip("\ufeff")) for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise RecordUnreadable(f"the settlement file lacks the columns {', '.join(missing)}")
    at = {name: header.index(name) for name in REQUIRED}
    lines = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise RecordUnreadable(f"line {number}: {len(row)} cells for {len(header)} columns")
        currency = row[at["currency"]]
        lines.append(
            RecordLine(
                provider_reference=row[at["niirPay Transaction ID"]].strip(),
                reference=row[at["reference"]].strip(),
                money=_money(row[at["amount"]], currency, f"line {number}.amount"),
                fee_minor=_money(row[at["fees"]], currency, f"line {number}.fees").minor,
                status=RecordStatus.SUCCEEDED,
            )
        )
    return lines


def parse_settlement_file(content: bytes, *, business_date: date) -> DayRecord:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordUnreadable("the settlement file is not UTF-8") from None
    lines = settlement_lines(io.StringIO(text, newline=""))
    return DayRecord(provider="niirpay", business_date=business_date, lines=tuple(lines))
