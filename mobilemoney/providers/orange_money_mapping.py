"""Orange Money Sénégal's wire format ↔ the rail's dataclasses (pure; docs/providers/orange_money.md).

MSISDNs leave as 9 local digits and come back as E.164 (``msisdn.py``); amounts come back as
JSON floats and are read through ``Decimal`` (``wire.money_from_provider``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.errors import ErrorCode, ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderResponse, excerpt
from core.money import Money
from mobilemoney.providers.base import (
    CallbackEvent,
    CashInResult,
    CheckoutSession,
    CheckoutStatus,
    EventKind,
    OperationStatus,
    PaymentStatus,
)
from mobilemoney.providers.msisdn import MsisdnError, sn_local_to_e164
from mobilemoney.providers.wire import decode_json_or_none, money_from_provider, parse_timestamp, text

# Business codes (docs/providers/orange_money.md §8).
INSUFFICIENT_FUNDS_CODES = frozenset({"2020", "2021"})  # balance insufficient / insufficient for payer (us)
CREDENTIAL_CODES = frozenset({"2011", "2012", "2013", "4003", "invalid_client", "unauthorized_client"})
# "Invalid/Revoked public key": refetch the key and retry once (docs/providers/orange_money.md §2).
PUBLIC_KEY_REVOKED = "4003"

# Transaction status enum of spec v1.1.0 (docs/providers/orange_money.md §3): only SUCCESS is paid.
_FINAL_FAILURES = frozenset({"CANCELLED", "FAILED", "REJECTED"})
# The cash-in type value is not documented: both spellings are accepted (assumed, docs/providers/orange_money.md §9).
TYPE_CASH_IN = frozenset({"CASHIN", "CASH_IN"})
TYPE_MERCHANT_PAYMENT = "MERCHANT_PAYMENT"


def operation_status(value: object) -> OperationStatus:
    if value == "SUCCESS":
        return OperationStatus.SUCCEEDED
    if value in _FINAL_FAILURES:
        return OperationStatus.FAILED
    return OperationStatus.PROCESSING  # ACCEPTED, INITIATED, PENDING, PRE_INITIATED: not final


def normalised_code(provider_code: str | None) -> ErrorCode:
    if provider_code in INSUFFICIENT_FUNDS_CODES:
        return ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    if provider_code in CREDENTIAL_CODES:
        return ErrorCode.PROVIDER_NOT_CONFIGURED
    return ErrorCode.PROVIDER_REJECTED


# --- errors (RFC 7807 bodies, docs/providers/orange_money.md §8) -------------------------------


def error_code(body: object) -> str | None:
    """``code`` of a problem body (a string or a number), or ``error`` of an OAuth error."""
    if not isinstance(body, Mapping):
        return None
    return text(body.get("code")) or text(body.get("error"))


def error_message(body: object) -> str | None:
    if not isinstance(body, Mapping):
        return None
    return text(body.get("detail")) or text(body.get("error_description")) or text(body.get("title"))


def error_for(response: ProviderResponse, *, operation: str, moves_money: bool) -> ProviderError:
    """The typed error of a non-2xx answer: 5xx / 408 unknown when money may have moved, 429
    retry later, other 4xx final with the business code mapped."""
    status = response.status
    label = f"orange_money {operation}: HTTP {status}"
    body = decode_json_or_none(response.content)
    code = error_code(body)
    if status == 429:
        return ProviderUnavailable(f"{label}: throttled", http_status=status, provider_code=code)
    if status == 408 or status >= 500:
        if moves_money:
            return ProviderOutcomeUnknown(f"{label}: outcome unknown", http_status=status, provider_code=code)
        return ProviderUnavailable(f"{label}: unavailable", http_status=status, provider_code=code)
    normalised = normalised_code(code)
    if status in (401, 403):
        normalised = ErrorCode.PROVIDER_NOT_CONFIGURED
    elif status == 404:
        normalised = ErrorCode.NOT_FOUND
    message = error_message(body) or excerpt(response.content)
    return ProviderRejected(
        f"{label}: {code or 'error'}: {message}", code=normalised, provider_code=code, http_status=status
    )


# --- transactions --------------------------------------------------------------------------


def money_of(amount: object) -> Money | None:
    """``{"value": 1000.0, "unit": "XOF"}`` as Money (``None`` when absent or unreadable)."""
    if not isinstance(amount, Mapping):
        return None
    try:
        return money_from_provider(amount.get("value"), amount.get("unit"))
    except ValueError:
        return None


def e164_or_none(party: object) -> str | None:
    if not isinstance(party, Mapping) or party.get("idType", "MSISDN") != "MSISDN":
        return None
    try:
        return sn_local_to_e164(str(party.get("id") or ""))
    except MsisdnError:
        return None


def cash_in_result(
    answer: Mapping[str, Any], *, reference: str, msisdn: str | None, money: Money | None
) -> CashInResult:
    """The answer of ``POST /cashins`` (``{transactionId, status, description}``, shape assumed,
    docs/providers/orange_money.md §3)."""
    status = operation_status(answer.get("status"))
    provider_code = text(answer.get("errorCode")) or text(answer.get("code"))
    return CashInResult(
        reference=text(answer.get("reference")) or reference,
        provider_reference=text(answer.get("transactionId")),
        status=status,
        money=money_of(answer.get("amount")) or money,
        msisdn=msisdn,
        failure_code=normalised_code(provider_code).value if status is OperationStatus.FAILED else None,
        provider_failure_code=provider_code,
        failure_message=text(answer.get("description")) if status is OperationStatus.FAILED else None,
    )


def transaction_result(transaction: Mapping[str, Any]) -> CashInResult:
    """A transaction object of ``GET /transactions?reference=`` (docs/providers/orange_money.md §3)."""
    return cash_in_result(
        transaction,
        reference=text(transaction.get("reference")) or "",
        msisdn=e164_or_none(transaction.get("customer")),
        money=money_of(transaction.get("amount")),
    )


def is_cash_in(transaction: Mapping[str, Any]) -> bool:
    # Filter the type locally: the server-side type filter is unreliable (docs/providers/orange_money.md §3).
    return transaction.get("type") in TYPE_CASH_IN


def is_merchant_payment(transaction: Mapping[str, Any]) -> bool:
    return transaction.get("type") == TYPE_MERCHANT_PAYMENT


# --- QR codes (checkout, docs/providers/orange_money.md §4) -----------------------------------


def qr_session(
    data: Mapping[str, Any], *, now: datetime, reference: str | None, money: Money | None
) -> CheckoutSession:
    """A QR code answer (create, or the status of ``GET /v4/qrcode/{qrId}``, shape assumed,
    docs/providers/orange_money.md §4) as a session."""
    qr_status = text(data.get("status")) or "INITIATED"
    valid_for = _mapping(data.get("validFor"))
    expires_at = parse_timestamp(valid_for.get("endDateTime"))
    if qr_status == "SUCCESS":
        status, payment = CheckoutStatus.COMPLETE, PaymentStatus.SUCCEEDED
    elif qr_status in _FINAL_FAILURES:
        status, payment = CheckoutStatus.FAILED, PaymentStatus.FAILED
    elif expires_at is not None and now >= expires_at:
        status, payment = CheckoutStatus.EXPIRED, PaymentStatus.CANCELLED
    else:
        status, payment = CheckoutStatus.OPEN, PaymentStatus.PROCESSING
    links = _mapping(data.get("deepLinks"))
    app_links = {str(name): str(url) for name, url in links.items() if isinstance(url, str)}
    short_link, deep_link = text(data.get("shortLink")), text(data.get("deepLink"))
    amount = money_of(data.get("amount")) or money
    if amount is None:
        raise ValueError("an Orange Money QR code without an amount")
    provider_code = text(data.get("errorCode"))
    return CheckoutSession(
        provider_session_id=str(data.get("qrId")),
        reference=text(data.get("reference")) or reference,
        money=amount,
        status=status,
        payment_status=payment,
        payment_url=short_link or deep_link or app_links.get("OM"),
        qr_payload=deep_link or short_link,
        qr_png_base64=text(data.get("qrCode")),
        expires_at=expires_at,
        provider_transaction_id=text(data.get("transactionId")),
        payer_msisdn=e164_or_none(data.get("customer")),
        completed_at=parse_timestamp(data.get("updatedAt")) if status is CheckoutStatus.COMPLETE else None,
        failure_code=normalised_code(provider_code).value if payment is PaymentStatus.FAILED else None,
        provider_failure_code=provider_code,
        app_links=app_links,
    )


_PAYMENT_TO_CHECKOUT = {
    OperationStatus.SUCCEEDED: CheckoutStatus.COMPLETE,
    OperationStatus.FAILED: CheckoutStatus.FAILED,
    OperationStatus.PROCESSING: CheckoutStatus.OPEN,
    OperationStatus.REVERSED: CheckoutStatus.COMPLETE,
}
_PAYMENT_STATUS = {
    OperationStatus.SUCCEEDED: PaymentStatus.SUCCEEDED,
    OperationStatus.FAILED: PaymentStatus.FAILED,
    OperationStatus.PROCESSING: PaymentStatus.PROCESSING,
    OperationStatus.REVERSED: PaymentStatus.REFUNDED,
}


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def payment_session(transaction: Mapping[str, Any]) -> CheckoutSession:
    """A merchant payment listed by ``GET /transactions?reference=`` as a session.

    Orange Money lists transactions, not QR codes: the ``transactionId`` stands in for the
    session id (callers correlate by ``reference``), and unpaid QR codes are never listed.
    """
    result = transaction_result(transaction)
    paid = result.status is OperationStatus.SUCCEEDED
    if result.money is None:
        raise ValueError("an Orange Money transaction without an amount")
    return CheckoutSession(
        provider_session_id=result.provider_reference or "",
        reference=result.reference or None,
        money=result.money,
        status=_PAYMENT_TO_CHECKOUT[result.status],
        payment_status=_PAYMENT_STATUS[result.status],
        payment_url=None,
        qr_payload=None,
        qr_png_base64=None,
        expires_at=None,
        provider_transaction_id=result.provider_reference,
        payer_msisdn=result.msisdn,
        completed_at=parse_timestamp(transaction.get("updatedAt")) if paid else None,
        failure_code=result.failure_code,
        provider_failure_code=result.provider_failure_code,
    )


# --- notifications (docs/providers/orange_money.md §6) ------------------------------------------


def event_of(transaction: Mapping[str, Any], *, event_id: str) -> CallbackEvent:
    """One notification (a transaction object) as an event."""
    if not text(transaction.get("transactionId")) and not text(transaction.get("reference")):
        raise ValueError("an Orange Money notification needs a transactionId or a reference")
    kind = EventKind.OTHER
    if is_merchant_payment(transaction):
        kind = EventKind.CHECKOUT
    elif is_cash_in(transaction):
        kind = EventKind.CASH_IN
    result = transaction_result(transaction)
    return CallbackEvent(
        event_id=event_id,
        kind=kind,
        event_type=str(transaction.get("type") or ""),
        reference=result.reference or None,
        provider_reference=result.provider_reference,
        status=result.status if kind is not EventKind.OTHER else None,
        money=result.money,
        raw=transaction,
        msisdn=result.msisdn,
        provider_transaction_id=result.provider_reference,
        failure_code=result.failure_code,
        provider_failure_code=result.provider_failure_code,
    )
