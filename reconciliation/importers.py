"""Records imported from files staff received (docs/reports.md §3.1): the provider decides the reader."""

from __future__ import annotations

from datetime import date

from banking.providers.camt053 import parse_camt053
from core.provider_records import DayRecord, RecordUnreadable
from payments.providers.niirpay_settlement import parse_settlement_file

CAMT053_PROVIDERS = frozenset({"partner_bank", "core_banking"})


def record_from_file(*, provider: str, business_date: date, content: bytes) -> DayRecord:
    if provider == "niirpay":
        return parse_settlement_file(content, business_date=business_date)
    if provider in CAMT053_PROVIDERS:
        return parse_camt053(content, provider=provider, business_date=business_date)
    raise RecordUnreadable(f"no file format is known for {provider}; its record is fetched from its API")
