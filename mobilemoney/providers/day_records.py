"""The mobile-money providers' records of a day, read into ``core.provider_records`` lines
(docs/providers/wave.md §9, docs/providers/orange_money.md §10). Pure: no I/O.

An answer that cannot be read raises ``RecordUnreadable``: reconciliation then calls the run
incomplete, never reconciled.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.money import Money
from core.provider_records import RecordLine, RecordStatus, RecordUnreadable
from mobilemoney.providers.wire import money_from_provider, parse_timestamp

WAVE_REVERSALS = frozenset({"api_payout_reversal", "api_checkout_refund", "merchant_payment_refund"})
OM_SUCCESS, OM_FAILED = "SUCCESS", frozenset({"FAILED", "CANCELLED", "REJECTED"})


def _positive(value: object, currency: object) -> Money:
    """Providers sign amounts by direction (a payout is negative in Wave's list): the size only."""
    try:
        money = money_from_provider(value, currency)
    except ValueError as exc:
        raise RecordUnreadable(str(exc)) from None
    return Money(abs(money.minor), money.currency)


def wave_line(item: Any) -> RecordLine:
    """One item of Wave's ``GET /v1/transactions`` (docs/providers/wave.md §9)."""
    if not isinstance(item, Mapping) or not item.get("transaction_id"):
        raise RecordUnreadable("a Wave transaction without transaction_id")
    money = _positive(item.get("amount"), item.get("currency"))
    fee = _positive(item.get("fee") or "0", item.get("currency"))
    reversed_ = item.get("is_reversal") is True or item.get("transaction_type") in WAVE_REVERSALS
    return RecordLine(
        provider_reference=str(item["transaction_id"]),
        reference=str(item.get("client_reference") or ""),
        money=money,
        fee_minor=fee.minor,
        status=RecordStatus.REVERSED if reversed_ else RecordStatus.SUCCEEDED,
        occurred_at=parse_timestamp(item.get("timestamp")),
    )


def orange_money_line(item: Any) -> RecordLine | None:
    """One transaction of Orange Money's period search; None while it is not final (§10)."""
    if not isinstance(item, Mapping) or not item.get("transactionId"):
        raise RecordUnreadable("an Orange Money transaction without transactionId")
    status = str(item.get("status") or "")
    if status != OM_SUCCESS and status not in OM_FAILED:
        return None
    amount = item.get("amount")
    if not isinstance(amount, Mapping):
        raise RecordUnreadable("an Orange Money transaction without amount")
    value = amount.get("value")
    money = _positive(value if not isinstance(value, float) else Decimal(str(value)), amount.get("unit"))
    return RecordLine(
        provider_reference=str(item["transactionId"]),
        reference=str(item.get("reference") or ""),
        money=money,
        fee_minor=None,  # Sonatel's transaction object carries no fee (docs/providers/orange_money.md §10)
        status=RecordStatus.SUCCEEDED if status == OM_SUCCESS else RecordStatus.FAILED,
        occurred_at=parse_timestamp(item.get("createdAt")),
    )
