"""Wave's wire format ↔ the rail's dataclasses (pure functions; docs/providers/wave.md).

Kept apart from ``wave.py`` (the HTTP calls) so the parsing rules can be read, and tested,
on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ErrorCode, ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderResponse, excerpt
from core.money import Money
from mobilemoney.providers.base import (
    CallbackEvent,
    CashInRequest,
    CashInResult,
    CheckoutSession,
    CheckoutStatus,
    EventKind,
    OperationStatus,
    PaymentStatus,
)
from mobilemoney.providers.wire import decode_json_or_none, money_from_provider, parse_timestamp, text

PROVIDER = "wave"
PAYMENT_REASON_MAX = 40  # docs/providers/wave.md §3: payment_reason ≤ 40 characters

# Wave error codes → our normalised codes (docs/providers/wave.md §3: payout and payment errors).
INSUFFICIENT_FUNDS_CODES = frozenset({"insufficient-funds"})
NOT_CONFIGURED_CODES = frozenset(
    {
        "missing-auth-header",
        "invalid-auth",
        "api-key-not-provided",
        "no-matching-api-key",
        "api-key-revoked",
        "invalid-wallet",
        "disabled-wallet",
        "ip-not-allowed",
        "unauthorized-wallet",
        "missing-signature",
        "invalid-signature",
    }
)
NOT_FOUND_CODES = frozenset({"not-found", "checkout-session-not-found"})

_PAYOUT_STATUSES = {
    "processing": OperationStatus.PROCESSING,
    "succeeded": OperationStatus.SUCCEEDED,
    "failed": OperationStatus.FAILED,
    "reversed": OperationStatus.REVERSED,
}


def normalised_code(provider_code: str | None) -> ErrorCode:
    if provider_code in INSUFFICIENT_FUNDS_CODES:
        return ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    if provider_code in NOT_CONFIGURED_CODES:
        return ErrorCode.PROVIDER_NOT_CONFIGURED
    if provider_code in NOT_FOUND_CODES:
        return ErrorCode.NOT_FOUND
    return ErrorCode.PROVIDER_REJECTED


# --- errors --------------------------------------------------------------------------------


def error_code(body: object) -> str | None:
    """Wave's error code wherever this answer put it: ``code``, ``error_code``, ``error`` (a
    string) or ``error.code`` (docs/providers/wave.md §2: parse defensively)."""
    if not isinstance(body, Mapping):
        return None
    for key in ("code", "error_code"):
        if text(body.get(key)):
            return text(body.get(key))
    nested = body.get("error")
    if isinstance(nested, Mapping):
        return text(nested.get("code")) or text(nested.get("error_code"))
    return text(nested)


def error_message(body: object) -> str | None:
    if not isinstance(body, Mapping):
        return None
    for key in ("message", "error_message"):
        if text(body.get(key)):
            return text(body.get(key))
    nested = body.get("error")
    return text(nested.get("message")) if isinstance(nested, Mapping) else None


def error_for(response: ProviderResponse, *, operation: str, moves_money: bool) -> ProviderError:
    """The typed error of a non-200 answer, after Wave's retry rules (docs/providers/wave.md §2):
    5xx, 408 → outcome unknown when money may have moved, else unavailable; 429 → retry later;
    every other status is final."""
    status = response.status
    label = f"wave {operation}: HTTP {status}"
    body = decode_json_or_none(response.content)
    code = error_code(body)
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return ProviderUnavailable(f"{label}: throttled", retry_after=seconds, http_status=status, provider_code=code)
    if status == 408 or status >= 500:
        if moves_money:
            return ProviderOutcomeUnknown(f"{label}: outcome unknown", http_status=status, provider_code=code)
        return ProviderUnavailable(f"{label}: unavailable", http_status=status, provider_code=code)
    message = error_message(body) or excerpt(response.content)
    normalised = normalised_code(code)
    if code is None and status in (401, 403):
        normalised = ErrorCode.PROVIDER_NOT_CONFIGURED
    elif code is None and status == 404:
        normalised = ErrorCode.NOT_FOUND
    return ProviderRejected(
        f"{label}: {code or 'error'}: {message}", code=normalised, provider_code=code, http_status=status
    )


# --- payouts (cash-in) ---------------------------------------------------------------------


def payout_body(request: CashInRequest) -> dict[str, str]:
    """A payout request body (docs/providers/wave.md §3): amounts as strings, phone in E.164."""
    if request.money.currency != "XOF" or request.money.minor <= 0:
        raise ProviderRejected(
            f"Wave pays out whole XOF amounts only, not {request.money}", code=ErrorCode.UNSUPPORTED_CURRENCY
        )
    body = {
        "currency": request.money.currency,
        "receive_amount": request.money.to_decimal_string(),
        "mobile": request.msisdn,
        "client_reference": request.reference,
    }
    if request.recipient_name:
        body["name"] = request.recipient_name[:255]
    if request.reason:
        body["payment_reason"] = request.reason[:PAYMENT_REASON_MAX]
    return body


def payout_result(payout: Mapping[str, Any], *, reference: str | None = None) -> CashInResult:
    """A payout object (``pt-…``) as a result; ``payout_error`` (the second error channel of
    docs/providers/wave.md §3) makes it ``failed`` whatever ``status`` says."""
    status = _PAYOUT_STATUSES.get(str(payout.get("status")), OperationStatus.PROCESSING)
    failure = payout.get("payout_error")
    provider_failure_code = failure_message = None
    if isinstance(failure, Mapping):
        status = OperationStatus.FAILED
        provider_failure_code = error_code(failure)
        failure_message = error_message(failure)
    money = _money_or_none(payout.get("receive_amount"), payout.get("currency"))
    fee = _money_or_none(payout.get("fee"), payout.get("currency"))
    return CashInResult(
        reference=text(payout.get("client_reference")) or reference or "",
        provider_reference=text(payout.get("id")),
        status=status,
        money=money,
        msisdn=text(payout.get("mobile")),
        fee_minor=fee.minor if fee else None,
        failure_code=normalised_code(provider_failure_code).value if status is OperationStatus.FAILED else None,
        provider_failure_code=provider_failure_code,
        failure_message=failure_message,
    )


def rejection_of(result: CashInResult) -> ProviderRejected:
    """A failed payout answered with 200 is still a final refusal for ``cash_in``."""
    return ProviderRejected(
        f"wave payout: {result.provider_failure_code or 'failed'}: {result.failure_message or ''}".strip(),
        code=ErrorCode(result.failure_code or ErrorCode.PROVIDER_REJECTED),
        provider_code=result.provider_failure_code,
        http_status=200,
    )


def _money_or_none(amount: object, currency: object) -> Money | None:
    try:
        return money_from_provider(amount, currency)
    except ValueError:
        return None


# --- checkout sessions ---------------------------------------------------------------------


def session_of(data: Mapping[str, Any]) -> CheckoutSession:
    """A checkout session object (``cos-…``, docs/providers/wave.md §4) in the rail's terms."""
    checkout_status = str(data.get("checkout_status"))
    wave_payment = str(data.get("payment_status"))
    error = data.get("last_payment_error")
    refunded_at = parse_timestamp(data.get("when_refunded"))
    status = {"complete": CheckoutStatus.COMPLETE, "expired": CheckoutStatus.EXPIRED}.get(
        checkout_status, CheckoutStatus.OPEN
    )
    if refunded_at is not None:
        payment = PaymentStatus.REFUNDED
    elif wave_payment == "succeeded" and status is CheckoutStatus.COMPLETE:
        payment = PaymentStatus.SUCCEEDED  # paid ⇔ complete AND succeeded (docs/providers/wave.md §4)
    elif wave_payment == "cancelled":
        payment = PaymentStatus.CANCELLED
    elif isinstance(error, Mapping):
        payment = PaymentStatus.FAILED
    else:
        payment = PaymentStatus.PROCESSING
    provider_failure_code = error_code(error) if isinstance(error, Mapping) else None
    launch_url = text(data.get("wave_launch_url"))
    return CheckoutSession(
        provider_session_id=str(data.get("id")),
        reference=text(data.get("client_reference")),
        money=money_from_provider(data.get("amount"), data.get("currency")),
        status=status,
        payment_status=payment,
        payment_url=launch_url,
        # Wave gives no QR image: the launch URL is what the QR encodes (docs/providers/wave.md §4).
        qr_payload=launch_url,
        qr_png_base64=None,
        expires_at=parse_timestamp(data.get("when_expires")),
        provider_transaction_id=text(data.get("transaction_id")),
        completed_at=parse_timestamp(data.get("when_completed")),
        refunded_at=refunded_at,
        failure_code=normalised_code(provider_failure_code).value if provider_failure_code else None,
        provider_failure_code=provider_failure_code,
        failure_message=error_message(error) if isinstance(error, Mapping) else None,
    )


# --- webhook events ------------------------------------------------------------------------

_CHECKOUT_EVENTS = {
    "checkout.session.completed": OperationStatus.SUCCEEDED,
    "checkout.session.payment_failed": OperationStatus.FAILED,
}


def event_of(event: Mapping[str, Any]) -> CallbackEvent:
    """One Wave event ``{"id": "EV_…", "type": …, "data": {…}}`` (docs/providers/wave.md §6)."""
    event_id, event_type, data = text(event.get("id")), text(event.get("type")), event.get("data")
    if event_id is None or event_type is None or not isinstance(data, Mapping):
        raise ValueError("a Wave event needs id, type and a data object")
    status = _CHECKOUT_EVENTS.get(event_type)
    if status is None:
        return CallbackEvent(event_id, EventKind.OTHER, event_type, None, text(data.get("id")), None, None, event)
    session = session_of(data)
    return CallbackEvent(
        event_id=event_id,
        kind=EventKind.CHECKOUT,
        event_type=event_type,
        reference=session.reference,
        provider_reference=session.provider_session_id,
        status=status,
        money=session.money,
        raw=event,
        provider_transaction_id=session.provider_transaction_id,
        failure_code=session.failure_code,
        provider_failure_code=session.provider_failure_code,
        failure_message=session.failure_message,
    )
