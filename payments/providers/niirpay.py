"""Niirpay bill-payment connector, over our ASSUMED contract (docs/providers/niirpay.md).

Niirpay publishes no API (the status note of docs/providers/niirpay.md): the paths, JSON shapes,
signature and error codes below are the contract we assumed, modelled on comparable aggregators.
When the real contract arrives, only this module (and its wire parser) changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import unquote, urlsplit

from core.errors import ErrorCode, ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderHttpClient, ProviderResponse, raise_for_provider_status
from core.logging import mask_text
from core.money import Money
from core.provider_records import DayRecord
from core.signing import signature_header
from partners.registry import ConnectorSettings, register
from payments.providers.base import Biller, BillPaymentProvider, Lookup, PaymentNotFound, PaymentResult, Quote
from payments.providers.niirpay_settlement import parse_settlement_file
from payments.providers.niirpay_wire import (
    MalformedAnswer,
    parse_balance,
    parse_biller,
    parse_lookup,
    parse_payment,
    parse_quote,
)

PROVIDER = "niirpay"
SIGNATURE_HEADER = "X-Niirpay-Signature"
# docs/providers/niirpay.md §6: our payment reference is Niirpay's idempotency key.
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

# Niirpay error codes of 4xx answers (docs/providers/niirpay.md §8) → our typed errors.
_ERRORS: dict[str, tuple[Callable[..., ProviderError], ErrorCode]] = {
    "UNAUTHORIZED": (ProviderRejected, ErrorCode.PROVIDER_NOT_CONFIGURED),
    "INVALID_SIGNATURE": (ProviderRejected, ErrorCode.PROVIDER_NOT_CONFIGURED),
    "INVALID_REQUEST": (ProviderRejected, ErrorCode.VALIDATION_ERROR),
    "UNKNOWN_BILLER": (ProviderRejected, ErrorCode.UNKNOWN_BILLER),
    "INVALID_CUSTOMER_REFERENCE": (ProviderRejected, ErrorCode.INVALID_CUSTOMER_REFERENCE),
    "BILLER_UNAVAILABLE": (ProviderUnavailable, ErrorCode.BILLER_UNAVAILABLE),
    "AMOUNT_OUT_OF_RANGE": (ProviderRejected, ErrorCode.AMOUNT_OUT_OF_RANGE),
    "UNSUPPORTED_CURRENCY": (ProviderRejected, ErrorCode.UNSUPPORTED_CURRENCY),
    "BILL_NOT_FOUND": (ProviderRejected, ErrorCode.NOT_FOUND),
    "BILL_ALREADY_PAID": (ProviderRejected, ErrorCode.BILL_ALREADY_PAID),
    "QUOTE_NOT_FOUND": (ProviderRejected, ErrorCode.NOT_FOUND),
    "QUOTE_EXPIRED": (ProviderRejected, ErrorCode.QUOTE_EXPIRED),
    "QUOTE_ALREADY_USED": (ProviderRejected, ErrorCode.QUOTE_ALREADY_USED),
    "DUPLICATE_REFERENCE": (ProviderRejected, ErrorCode.IDEMPOTENCY_KEY_REUSED),
    "REQUEST_IN_PROGRESS": (ProviderOutcomeUnknown, ErrorCode.PROVIDER_OUTCOME_UNKNOWN),
    "PAYMENT_NOT_FOUND": (PaymentNotFound, ErrorCode.NOT_FOUND),
}


@register("niirpay")
class NiirpayConnector(BillPaymentProvider):
    """Bills, prepaid electricity, water, TV and airtime through Niirpay.

    Credentials: ``api_key`` (sent as a bearer token) and ``api_secret`` (signs every request).
    """

    def __init__(self, settings: ConnectorSettings) -> None:
        api_key, api_secret = settings.credentials.get("api_key"), settings.credentials.get("api_secret")
        if not api_key or not api_secret:
            raise ValueError("the niirpay connection needs credentials api_key and api_secret")
        self._api_secret = str(api_secret)
        self._client = ProviderHttpClient(
            provider=PROVIDER,
            base_url=settings.base_url,
            timeouts=settings.timeouts,
            default_headers={"Accept": "application/json", "Authorization": f"Bearer {api_key}"},
        )

    def close(self) -> None:
        self._client.close()

    # --- the interface -----------------------------------------------------------------------

    def list_billers(self) -> list[Biller]:
        with _reading("billers", moves_money=False):
            body = self._call("GET", "v1/billers", operation="billers")
            return [parse_biller(item) for item in body["billers"]]

    def lookup(self, *, biller_code: str, customer_reference: str) -> Lookup:
        request = {"biller_code": biller_code, "customer_reference": customer_reference}
        with _reading("lookup", moves_money=False):
            return parse_lookup(self._call("POST", "v1/lookups", operation="lookup", json_body=request))

    def quote(
        self,
        *,
        biller_code: str,
        customer_reference: str,
        bill_id: str | None = None,
        amount: Money | None = None,
    ) -> Quote:
        if (bill_id is None) == (amount is None):
            raise ValueError("quote needs exactly one of bill_id and amount")
        request: dict[str, Any] = {"biller_code": biller_code, "customer_reference": customer_reference}
        if amount is not None:
            request.update(amount=amount.to_decimal_string(), currency=amount.currency)
        else:
            request["bill_id"] = bill_id
        with _reading("quote", moves_money=False):
            return parse_quote(self._call("POST", "v1/quotes", operation="quote", json_body=request))

    def pay(self, *, quote_id: str, reference: str) -> PaymentResult:
        _check_reference(reference)
        with _reading("pay", moves_money=True):
            body = self._call(
                "POST",
                "v1/payments",
                operation="pay",
                json_body={"quote_id": quote_id, "reference": reference},
                headers={"Idempotency-Key": reference},
                moves_money=True,
            )
            return parse_payment(body, expected_reference=reference)

    def payment_status(self, reference: str) -> PaymentResult:
        _check_reference(reference)
        path = f"v1/payments/{url_quote(reference, safe='')}"
        # An unreadable status answer is no answer: ProviderUnavailable, ask again, never guess.
        with _reading("payment_status", moves_money=False):
            return parse_payment(self._call("GET", path, operation="payment_status"), expected_reference=reference)

    def balance(self) -> Money:
        with _reading("balance", moves_money=False):
            return parse_balance(self._call("GET", "v1/balance", operation="balance"))

    def day_record(self, business_date: date) -> DayRecord:
        """The settlement file of the day, ``GET v1/settlements/{date}`` (docs/providers/niirpay.md §12)."""
        path = f"v1/settlements/{business_date.isoformat()}"
        content = self._call("GET", path, operation="settlement_file", decode=False)
        return parse_settlement_file(content, business_date=business_date)

    # --- HTTP -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        moves_money: bool = False,
        decode: bool = True,
    ) -> Any:
        raw = json.dumps(json_body, separators=(",", ":")).encode() if json_body is not None else b""
        url = urlsplit(self._client.url(path))
        # docs/providers/niirpay.md §2: the signed path is percent-decoded, plus the raw query.
        signed_path = unquote(url.path) + (f"?{url.query}" if url.query else "")
        send_headers = {
            **(headers or {}),
            SIGNATURE_HEADER: signature_header(self._api_secret, method, signed_path, raw),
        }
        if json_body is not None:
            send_headers["Content-Type"] = "application/json"
        try:
            response = self._client.request(
                method,
                path,
                operation=operation,
                moves_money=moves_money,
                data=raw or None,
                headers=send_headers,
                raise_for_status=False,
            )
        except ProviderOutcomeUnknown as exc:
            if moves_money:
                raise
            # A lost answer to a call that moves no money leaves nothing to resolve: ask again.
            raise ProviderUnavailable(exc.message, http_status=exc.http_status) from exc
        if response.ok:
            # ValueError: read by _reading as unreadable; a file (decode=False) is the caller's to read
            return json.loads(response.content) if decode else response.content
        raise _error_for(response, operation=operation, moves_money=moves_money)


def _check_reference(reference: str) -> None:
    if not REFERENCE_RE.match(reference):
        raise ValueError("a niirpay reference is 1 to 64 characters of A-Z a-z 0-9 _ . : -")


def _error_of(response: ProviderResponse) -> tuple[str | None, str]:
    """Niirpay's ``(error.code, error.message)`` of an error answer, when it has them."""
    try:
        error = json.loads(response.content or b"null")["error"]
        code, message = error["code"], error.get("message", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, ""
    return (code if isinstance(code, str) else None), (mask_text(message[:300]) if isinstance(message, str) else "")


def _error_for(response: ProviderResponse, *, operation: str, moves_money: bool) -> ProviderError:
    """The typed error of a non-2xx answer. Only 4xx bodies are trusted: a 5xx, 408 or 429
    keeps core's meaning (unknown on a money-moving call, unavailable otherwise)."""
    code, detail = _error_of(response)
    status = response.status
    if 400 <= status < 500 and status not in (408, 429):
        error_class, error_code = _ERRORS.get(code or "", (ProviderRejected, ErrorCode.PROVIDER_REJECTED))
        message = f"{PROVIDER} {operation}: HTTP {status} {code or 'without an error code'}: {detail}"
        return error_class(message, code=error_code, provider_code=code, http_status=status)
    try:
        raise_for_provider_status(
            response, provider=PROVIDER, operation=operation, moves_money=moves_money, provider_code=code
        )
    except ProviderError as exc:
        return exc
    return ProviderOutcomeUnknown(f"{PROVIDER} {operation}: unexpected HTTP {status}", http_status=status)


@contextmanager
def _reading(operation: str, *, moves_money: bool) -> Iterator[None]:
    """Turn an answer we cannot read into the right typed error: unknown for payments (money may
    have moved), unavailable for reads (nothing happened there; ask again)."""
    try:
        yield
    except (MalformedAnswer, KeyError, TypeError, ValueError) as exc:
        message = f"{PROVIDER} {operation}: unreadable answer ({type(exc).__name__})"
        if moves_money:
            raise ProviderOutcomeUnknown(message) from exc
        raise ProviderUnavailable(message) from exc
