"""The generic wallet protocol (docs/providers/generic-wallet.yaml): any mobile-money operator
that implements the contract is onboarded as data (docs/adding-a-provider.md), on this connector.

Credentials (``ConnectorSettings.credentials``): ``api_key`` (Bearer) and ``webhook_secret``
(optionally ``webhook_secrets``, a list, during a rotation). Our reference is the cash-in's
``Idempotency-Key`` and ``reference``: a retry can never pay twice. Callbacks are signed
``<signature header>: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>``.

A wallet with its own API on the same shape (sandbox/mixx/, mobilemoney/providers/mixx.py)
subclasses ``GenericWalletConnector`` and changes the class attributes below.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, ClassVar

from core.errors import ErrorCode, ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderHttpClient, ProviderResponse, excerpt
from core.money import Money
from mobilemoney.providers.base import (
    CallbackEvent,
    CashInRequest,
    CashInResult,
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    EventKind,
    MobileMoneyProvider,
    OperationStatus,
    PaymentStatus,
    best_result,
    require_test_mode,
)
from mobilemoney.providers.signatures import TOLERANCE_SECONDS, parse_signature_header
from mobilemoney.providers.wire import (
    decode_json,
    decode_json_answer,
    decode_json_or_none,
    header,
    money_from_provider,
    parse_timestamp,
    text,
)
from partners.registry import ConnectorSettings, register

CASH_IN_STATUSES = {
    "processing": OperationStatus.PROCESSING,
    "succeeded": OperationStatus.SUCCEEDED,
    "failed": OperationStatus.FAILED,
    "reversed": OperationStatus.REVERSED,
}
CHECKOUT_STATUSES = {s.value: s for s in CheckoutStatus}
PAYMENT_STATUSES = {s.value: s for s in PaymentStatus}
FAILURE_CODES = {
    "insufficient-funds": ErrorCode.PROVIDER_INSUFFICIENT_FUNDS,
    "unauthorized": ErrorCode.PROVIDER_NOT_CONFIGURED,
    "not-found": ErrorCode.NOT_FOUND,
}
EVENT_KINDS = {"cash_in": EventKind.CASH_IN, "checkout": EventKind.CHECKOUT}


def failure_code(code: str | None) -> ErrorCode:
    return FAILURE_CODES.get(code or "", ErrorCode.PROVIDER_REJECTED)


@register("generic_wallet")
class GenericWalletConnector(MobileMoneyProvider):
    """A wallet speaking docs/providers/generic-wallet.yaml."""

    provider_name = "Generic wallet"
    supports_checkout_expire = True
    supports_checkout_refund = True
    supports_payer_restriction = True
    sends_cash_in_callbacks = True
    signature_header: ClassVar[str] = "Wallet-Signature"
    signature_separator: ClassVar[bytes] = b"."
    sandbox_pay_path: ClassVar[str] = "/_sandbox/checkouts/{id}/pay"

    def __init__(self, settings: ConnectorSettings) -> None:
        api_key = settings.credentials.get("api_key")
        if not api_key:
            raise ProviderRejected(
                f"the {self.provider_name} connection has no api_key", code=ErrorCode.PROVIDER_NOT_CONFIGURED
            )
        self.settings = settings
        self._http = ProviderHttpClient(
            provider=settings.provider_label,
            base_url=settings.base_url,
            timeouts=settings.timeouts,
            default_headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    # --- HTTP ----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        moves_money: bool = False,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """One call; a 200's JSON body, or the typed error the contract's status codes call for."""
        response = self._http.request(
            method,
            path,
            operation=operation,
            moves_money=moves_money,
            json_body=json_body,
            params=params,
            headers={"Idempotency-Key": idempotency_key} if idempotency_key else None,
            raise_for_status=False,
        )
        if response.status != 200:
            raise self._error(response, operation=operation, moves_money=moves_money)
        return decode_json_answer(response.content, what=f"{self.settings.provider_label} {operation}")

    def _error(self, response: ProviderResponse, *, operation: str, moves_money: bool) -> ProviderError:
        status = response.status
        label = f"{self.settings.provider_label} {operation}: HTTP {status}"
        body = decode_json_or_none(response.content)
        code = text(body.get("code")) if isinstance(body, Mapping) else None
        if status == 429:
            return ProviderUnavailable(f"{label}: throttled", http_status=status, provider_code=code)
        if status == 408 or status >= 500:
            if moves_money:
                return ProviderOutcomeUnknown(f"{label}: outcome unknown", http_status=status, provider_code=code)
            return ProviderUnavailable(f"{label}: unavailable", http_status=status, provider_code=code)
        message = (text(body.get("message")) if isinstance(body, Mapping) else None) or excerpt(response.content)
        normalised = failure_code(code)
        if code is None and status in (401, 403):
            normalised = ErrorCode.PROVIDER_NOT_CONFIGURED
        elif code is None and status == 404:
            normalised = ErrorCode.NOT_FOUND
        return ProviderRejected(
            f"{label}: {code or 'error'}: {message}", code=normalised, provider_code=code, http_status=status
        )

    # --- cash-in -------------------------------------------------------------------------------

    def cash_in(self, request: CashInRequest) -> CashInResult:
        body = {
            "reference": request.reference,
            "msisdn": request.msisdn,
            "amount": request.money.to_decimal_string(),
            "currency": request.money.currency,
        }
        if request.recipient_name:
            body["recipient_name"] = request.recipient_name
        if request.reason:
            body["reason"] = request.reason
        answer = self._call(
            "POST",
            "/v1/cash-ins",
            operation="cash_in",
            moves_money=True,
            json_body=body,
            idempotency_key=request.reference,
        )
        if not isinstance(answer, Mapping):  # a 200: the money may have moved, so never "rejected"
            raise ProviderOutcomeUnknown("cash_in: unreadable answer", http_status=200)
        result = self._cash_in_result(answer, reference=request.reference)
        if result.status is OperationStatus.FAILED:
            raise ProviderRejected(
                result.failure_message or "cash-in failed",
                code=failure_code(result.provider_failure_code),
                provider_code=result.provider_failure_code,
            )
        return result

    def _cash_in_result(self, item: Mapping[str, Any], *, reference: str | None = None) -> CashInResult:
        status = CASH_IN_STATUSES.get(str(item.get("status")), OperationStatus.PROCESSING)
        money = money_from_provider(item.get("amount"), item.get("currency"))
        provider_failure = text(item.get("failure_code"))
        return CashInResult(
            reference=text(item.get("reference")) or reference or "",
            provider_reference=text(item.get("id")),
            status=status,
            money=money,
            msisdn=text(item.get("msisdn")),
            fee_minor=money_from_provider(item.get("fee") or "0", money.currency).minor,
            failure_code=failure_code(provider_failure).value if status is OperationStatus.FAILED else None,
            provider_failure_code=provider_failure,
            failure_message=text(item.get("failure_message")),
        )

    def cash_in_status(self, reference: str, provider_reference: str | None = None) -> CashInResult | None:
        if provider_reference:
            try:
                item = self._call("GET", f"/v1/cash-ins/{provider_reference}", operation="cash_in_get")
            except ProviderRejected as exc:
                if exc.code is ErrorCode.NOT_FOUND:
                    return None
                raise
            if not isinstance(item, Mapping):
                raise ProviderUnavailable("cash_in_get: unreadable answer", http_status=200)
            return self._cash_in_result(item, reference=reference)
        found = self._call("GET", "/v1/cash-ins", operation="cash_in_search", params={"reference": reference})
        items = found.get("items") if isinstance(found, Mapping) else None
        results = [self._cash_in_result(item) for item in items or [] if isinstance(item, Mapping)]
        return best_result([result for result in results if result.reference == reference])

    # --- checkout ------------------------------------------------------------------------------

    def _session(self, item: Any) -> CheckoutSession:
        if not isinstance(item, Mapping):
            raise ProviderRejected("checkout: unexpected answer", http_status=200)
        url = text(item.get("payment_url"))
        return CheckoutSession(
            provider_session_id=str(item.get("id")),
            reference=text(item.get("reference")),
            money=money_from_provider(item.get("amount"), item.get("currency")),
            status=CHECKOUT_STATUSES.get(str(item.get("status")), CheckoutStatus.OPEN),
            payment_status=PAYMENT_STATUSES.get(str(item.get("payment_status")), PaymentStatus.PROCESSING),
            payment_url=url,
            qr_payload=url,
            qr_png_base64=None,
            expires_at=parse_timestamp(item.get("expires_at")),
            provider_transaction_id=text(item.get("transaction_id")),
            payer_msisdn=text(item.get("payer_msisdn")),
            completed_at=parse_timestamp(item.get("completed_at")),
            refunded_at=parse_timestamp(item.get("refunded_at")),
            failure_code=failure_code(text(item.get("failure_code"))).value if item.get("failure_code") else None,
            provider_failure_code=text(item.get("failure_code")),
            failure_message=text(item.get("failure_message")),
        )

    def checkout_create(self, request: CheckoutRequest) -> CheckoutSession:
        body = {
            "reference": request.reference,
            "amount": request.money.to_decimal_string(),
            "currency": request.money.currency,
            "success_url": request.success_url,
            "error_url": request.error_url,
        }
        if request.restrict_payer_msisdn:
            body["payer_msisdn"] = request.restrict_payer_msisdn
        answer = self._call(
            "POST", "/v1/checkouts", operation="checkout_create", json_body=body, idempotency_key=request.reference
        )
        return self._session(answer)

    def checkout_get(self, provider_session_id: str) -> CheckoutSession:
        return self._session(self._call("GET", f"/v1/checkouts/{provider_session_id}", operation="checkout_get"))

    def checkout_search(self, reference: str) -> list[CheckoutSession]:
        found = self._call("GET", "/v1/checkouts", operation="checkout_search", params={"reference": reference})
        items = found.get("items") if isinstance(found, Mapping) else None
        return [self._session(item) for item in items or [] if isinstance(item, Mapping)]

    def checkout_expire(self, provider_session_id: str) -> CheckoutSession:
        path = f"/v1/checkouts/{provider_session_id}/expire"
        return self._session(self._call("POST", path, operation="checkout_expire"))

    def checkout_refund(self, provider_session_id: str) -> CheckoutSession:
        # money goes back to the payer: a lost answer is unknown; the contract's refund is idempotent
        path = f"/v1/checkouts/{provider_session_id}/refund"
        return self._session(self._call("POST", path, operation="checkout_refund", moves_money=True))

    def sandbox_pay_checkout(self, provider_session_id: str, payer_msisdn: str) -> CheckoutSession:
        require_test_mode(self.settings.mode, "paying as a sandbox customer")
        path = self.sandbox_pay_path.format(id=provider_session_id)
        return self._session(
            self._call("POST", path, operation="sandbox_pay", json_body={"payer_msisdn": payer_msisdn})
        )

    # --- balance -------------------------------------------------------------------------------

    def balance(self) -> Money:
        answer = self._call("GET", "/v1/balance", operation="balance")
        try:
            return money_from_provider(answer.get("amount"), answer.get("currency"))
        except (AttributeError, ValueError) as exc:
            raise ProviderRejected(f"balance: unexpected answer ({exc})", http_status=200) from exc

    # --- callbacks -----------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        rotated = [str(value) for value in self.settings.credentials.get("webhook_secrets") or []]
        single = self.settings.credentials.get("webhook_secret")
        return [str(single), *rotated] if single else rotated

    def verify_callback(self, headers: Mapping[str, str], raw_body: bytes, now: float) -> bool:
        parsed = parse_signature_header(header(headers, self.signature_header))
        if parsed is None or abs(int(now) - int(parsed.timestamp)) > TOLERANCE_SECONDS:
            return False
        signed = parsed.timestamp.encode("ascii") + self.signature_separator + raw_body
        matched = False
        for secret in filter(None, self._secrets()):
            expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode("ascii")
            for candidate in parsed.signatures:  # every pair compared: timing tells nothing
                matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
        return matched

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> list[CallbackEvent]:
        event = decode_json(raw_body)
        if not isinstance(event, Mapping) or not text(event.get("id")) or not isinstance(event.get("data"), Mapping):
            raise ValueError("a callback of the generic wallet protocol is one event object")
        event_type = str(event.get("type") or "")
        kind = EVENT_KINDS.get(event_type.partition(".")[0], EventKind.OTHER)
        data: Mapping[str, Any] = event["data"]
        status: OperationStatus | None = None
        if kind is EventKind.CASH_IN:
            status = CASH_IN_STATUSES.get(str(data.get("status")))
        elif kind is EventKind.CHECKOUT:
            status = {
                "checkout.completed": OperationStatus.SUCCEEDED,
                "checkout.payment_failed": OperationStatus.FAILED,
            }.get(event_type)
        provider_failure = text(data.get("failure_code"))
        return [
            CallbackEvent(
                event_id=str(event["id"]),
                kind=kind,
                event_type=event_type,
                reference=text(data.get("reference")),
                provider_reference=text(data.get("id")),
                status=status,
                money=money_from_provider(data.get("amount"), data.get("currency")) if data.get("amount") else None,
                raw=event,
                msisdn=text(data.get("msisdn")) or text(data.get("payer_msisdn")),
                provider_transaction_id=text(data.get("transaction_id")),
                failure_code=failure_code(provider_failure).value if provider_failure else None,
                provider_failure_code=provider_failure,
                failure_message=text(data.get("failure_message")),
            )
        ]
