"""Reading Niirpay's JSON answers into the rail's dataclasses (docs/providers/niirpay.md §§3-7).

Strict on purpose: an amount that is not a decimal string, an unknown status or a payment for
another reference raises ``MalformedAnswer`` rather than being guessed at.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ErrorCode, GatewayError
from core.money import Money
from payments.providers.base import (
    Biller,
    BillerCategory,
    BillerKind,
    Lookup,
    Offer,
    OpenBill,
    PaymentResult,
    PaymentStatus,
    Quote,
    Receipt,
)

_KINDS = {"POSTPAID_BILL": BillerKind.BILL, "PREPAID": BillerKind.PREPAID}
_STATUSES = {
    "SUCCESSFUL": PaymentStatus.SUCCEEDED,
    "FAILED": PaymentStatus.FAILED,
    "PENDING": PaymentStatus.PROCESSING,
}
# Failure codes of FAILED payments (docs/providers/niirpay.md §7) → our failure codes.
_FAILURES = {
    "CUSTOMER_BLOCKED": ErrorCode.PROVIDER_REJECTED,
    "INSUFFICIENT_FLOAT": ErrorCode.PROVIDER_INSUFFICIENT_FUNDS,
    "BILLER_DECLINED": ErrorCode.PROVIDER_REJECTED,
}


class MalformedAnswer(ValueError):
    """A Niirpay answer that does not follow the contract."""


def minor(value: Any, currency: str) -> int:
    """Integer minor units of a decimal-string amount (never a JSON number: no floats)."""
    try:
        return Money.parse(value, currency, allow_zero=True).minor
    except GatewayError as exc:
        raise MalformedAnswer(f"bad amount {value!r} {currency}: {exc.detail}") from None


def _category(value: str) -> BillerCategory:
    try:
        return BillerCategory(value.lower())
    except ValueError:
        return BillerCategory.OTHER


def _offers(items: list[dict[str, Any]]) -> tuple[Offer, ...]:
    return tuple(Offer(item["code"], item["name"], minor(item["amount"], item["currency"])) for item in items)


def parse_biller(item: dict[str, Any]) -> Biller:
    amount, reference = item["amount"], item["customer_reference"]
    currency = amount["currency"]
    if item["type"] not in _KINDS:
        raise MalformedAnswer(f"unknown biller type {item['type']!r}")
    return Biller(
        code=item["code"],
        name=item["name"],
        category=_category(item["category"]),
        kind=_KINDS[item["type"]],
        reference_label=reference["label"],
        reference_pattern=reference["pattern"],
        reference_example=reference["example"],
        min_amount_minor=minor(amount["min"], currency),
        max_amount_minor=minor(amount["max"], currency),
        currency=currency,
        is_available=item["status"] == "AVAILABLE",
        offers=_offers(item.get("offers") or []),
    )


def parse_lookup(body: dict[str, Any]) -> Lookup:
    amount_range = body.get("amount")
    bills = tuple(
        OpenBill(
            bill_id=bill["bill_id"],
            period=bill["period"],
            amount_minor=minor(bill["amount"], bill["currency"]),
            due_date=date.fromisoformat(bill["due_date"]),
        )
        for bill in body["bills"]
    )
    currencies = {bill["currency"] for bill in body["bills"]} | ({amount_range["currency"]} if amount_range else set())
    if len(currencies) > 1:
        raise MalformedAnswer(f"a lookup in several currencies: {sorted(currencies)}")
    currency = currencies.pop() if currencies else "XOF"
    return Lookup(
        biller_code=body["biller_code"],
        customer_reference=body["customer_reference"],
        customer_name=body["customer_name"],
        currency=currency,
        bills=bills,
        min_amount_minor=minor(amount_range["min"], currency) if amount_range else None,
        max_amount_minor=minor(amount_range["max"], currency) if amount_range else None,
        offers=_offers(body.get("offers") or []),
    )


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise MalformedAnswer(f"a time without a timezone: {value!r}")
    return moment


def parse_quote(body: dict[str, Any]) -> Quote:
    currency = body["currency"]
    quote = Quote(
        quote_id=body["quote_id"],
        biller_code=body["biller_code"],
        customer_reference=body["customer_reference"],
        bill_id=body.get("bill_id"),
        amount_minor=minor(body["amount"], currency),
        fee_minor=minor(body["fee"], currency),
        total_minor=minor(body["total"], currency),
        currency=currency,
        expires_at=_aware(body["expires_at"]),
    )
    if quote.total_minor != quote.amount_minor + quote.fee_minor:
        raise MalformedAnswer("a quote whose total is not amount + fee")
    return quote


def _receipt(body: dict[str, Any] | None) -> Receipt | None:
    if not body:
        return None
    tokens = tuple(body.get("tokens") or ())
    if not all(isinstance(token, str) and token.isdigit() for token in tokens):
        raise MalformedAnswer("receipt tokens must be digit strings")
    try:
        kwh = Decimal(body["kwh"]) if body.get("kwh") is not None else None
    except InvalidOperation:
        raise MalformedAnswer(f"bad kwh {body['kwh']!r}") from None
    return Receipt(receipt_number=body["number"], tokens=tokens, kwh=kwh)


def parse_payment(body: dict[str, Any], *, expected_reference: str) -> PaymentResult:
    if body["reference"] != expected_reference:
        raise MalformedAnswer("the answer is about another payment reference")
    status = _STATUSES.get(body["status"])
    if status is None:
        raise MalformedAnswer(f"unknown payment status {body['status']!r}")
    currency = body["currency"]
    failure = body.get("failure") or {}
    provider_failure = failure.get("code")
    receipt = _receipt(body.get("receipt"))
    if status is PaymentStatus.SUCCEEDED and receipt is None:
        raise MalformedAnswer("a successful payment without a receipt")
    return PaymentResult(
        reference=body["reference"],
        provider_reference=body["transaction_id"],
        status=status,
        amount_minor=minor(body["amount"], currency),
        fee_minor=minor(body["fee"], currency),
        total_minor=minor(body["total"], currency),
        currency=currency,
        receipt=receipt,
        failure_code=_FAILURES.get(provider_failure or "", ErrorCode.PROVIDER_REJECTED)
        if status is PaymentStatus.FAILED
        else None,
        failure_message=failure.get("message", ""),
        provider_failure_code=provider_failure,
    )


def parse_balance(body: dict[str, Any]) -> Money:
    return Money(minor(body["available"], body["currency"]), body["currency"])
