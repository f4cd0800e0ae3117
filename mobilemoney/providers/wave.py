"""Wave Business API connector (docs/providers/wave.md): payouts (our cash-in), payout batches,
checkout sessions, balance, and ``Wave-Signature`` webhooks.

Credentials (``ConnectorSettings.credentials``): ``api_key`` (Bearer, §1 of that page);
``webhook_secret`` (the signing secret of our webhook, §6) and optionally
``webhook_secrets`` (a list, for a rotation). Wave has no payout webhooks (§3, §6): payouts
are resolved by status queries (``cash_in_status``), never by waiting for a callback.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.errors import ErrorCode, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderHttpClient, ProviderResponse
from core.money import Money
from core.provider_records import DayRecord, RecordLine, RecordUnreadable
from mobilemoney.providers import wave_mapping as wire
from mobilemoney.providers.base import (
    BatchStatus,
    BatchSubmission,
    CallbackEvent,
    CashInBatchRequest,
    CashInRequest,
    CashInResult,
    CheckoutRequest,
    CheckoutSession,
    MobileMoneyProvider,
    OperationStatus,
    best_result,
    require_test_mode,
)
from mobilemoney.providers.day_records import wave_line
from mobilemoney.providers.signatures import verify_wave_signature
from mobilemoney.providers.wire import decode_json, decode_json_answer, header, money_from_provider
from partners.registry import ConnectorSettings, register

SIGNATURE_HEADER = "Wave-Signature"
# docs/providers/wave.md §3: Wave's documentation spells the batch status path one way in its
# endpoint list, the other in the section body; we try the detailed form first and fall back
# on 404/405.
BATCH_STATUS_PATHS = ("/v1/payout-batch/{id}", "/v1/payouts-batch/{id}")
RECORD_PAGE_SIZE = 1000  # Wave's page threshold of the transaction list (docs/providers/wave.md §9)


@register("wave")
class WaveConnector(MobileMoneyProvider):
    """Wave Sénégal, one business wallet per API key."""

    provider_name = "Wave"
    supports_batch = True
    supports_checkout_expire = True
    supports_checkout_refund = True
    supports_payer_restriction = True
    sends_cash_in_callbacks = False

    def __init__(self, settings: ConnectorSettings) -> None:
        api_key = settings.credentials.get("api_key")
        if not api_key:
            raise ProviderRejected("the Wave connection has no api_key", code=ErrorCode.PROVIDER_NOT_CONFIGURED)
        self.settings = settings
        self._http = ProviderHttpClient(
            provider=settings.provider_label,  # wave_ci on this connector is labelled wave_ci
            base_url=settings.base_url,
            timeouts=settings.timeouts,
            default_headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    # --- HTTP ------------------------------------------------------------------------------

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
    ) -> ProviderResponse:
        """One call; any answer but 200 raises the error Wave's retry rules call for."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._http.request(
            method,
            path,
            operation=operation,
            moves_money=moves_money,
            json_body=json_body,
            params=params,
            headers=headers,
            raise_for_status=False,
        )
        if response.status != 200:
            raise wire.error_for(response, operation=operation, moves_money=moves_money)
        return response

    def _json(self, response: ProviderResponse, operation: str) -> Any:
        return decode_json_answer(response.content, what=f"wave {operation}")

    # --- cash-in (payouts, docs/providers/wave.md §3) ------------------------------------

    def cash_in(self, request: CashInRequest) -> CashInResult:
        # The Idempotency-Key is our stable reference: every retry sends the same key, and Wave
        # guarantees "requests with the same key never send money more than once"
        # (docs/providers/wave.md §2).
        response = self._call(
            "POST",
            "/v1/payout",
            operation="payout",
            moves_money=True,
            json_body=wire.payout_body(request),
            idempotency_key=request.reference,
        )
        payout = self._json(response, "payout")
        if not isinstance(payout, Mapping):  # a 200: the money may have moved, so never "rejected"
            raise ProviderOutcomeUnknown("wave payout: unreadable answer", http_status=200)
        result = wire.payout_result(payout, reference=request.reference)
        if result.status is OperationStatus.FAILED:
            raise wire.rejection_of(result)
        return result

    def cash_in_status(self, reference: str, provider_reference: str | None = None) -> CashInResult | None:
        if provider_reference:
            try:
                response = self._call("GET", f"/v1/payout/{provider_reference}", operation="payout_get")
            except ProviderRejected as exc:
                if exc.code is ErrorCode.NOT_FOUND:
                    return None
                raise
            payout = self._json(response, "payout_get")
            if not isinstance(payout, Mapping):
                raise ProviderUnavailable("wave payout_get: unreadable answer", http_status=200)
            return wire.payout_result(payout, reference=reference)
        response = self._call(
            "GET", "/v1/payouts/search", operation="payout_search", params={"client_reference": reference}
        )
        found = self._json(response, "payout_search")
        payouts = found.get("result") if isinstance(found, Mapping) else None
        results = [wire.payout_result(item, reference=reference) for item in payouts or [] if isinstance(item, Mapping)]
        return best_result([result for result in results if result.reference == reference])

    def cash_in_batch(self, batch: CashInBatchRequest) -> BatchSubmission:
        body = {"payouts": [wire.payout_body(item) for item in batch.items]}
        response = self._call(
            "POST",
            "/v1/payout-batch",
            operation="payout_batch",
            moves_money=True,
            json_body=body,
            idempotency_key=batch.reference,
        )
        answer = self._json(response, "payout_batch")
        batch_id = answer.get("id") if isinstance(answer, Mapping) else None
        if not isinstance(batch_id, str) or not batch_id:  # accepted, maybe: resubmit with the same key
            raise ProviderOutcomeUnknown("wave payout_batch: the answer has no batch id", http_status=200)
        return BatchSubmission(batch_id=batch_id, reference=batch.reference)

    def cash_in_batch_status(self, batch_id: str) -> BatchStatus:
        answer = self._json(self._batch_status_response(batch_id), "payout_batch_get")
        if not isinstance(answer, Mapping):
            raise ProviderRejected("wave payout_batch_get: unexpected answer", http_status=200)
        payouts = [item for item in answer.get("payouts") or [] if isinstance(item, Mapping)]
        items = tuple(wire.payout_result(item) for item in payouts)
        # Batch status is processing | complete, with no success flag: each payout tells
        # (docs/providers/wave.md §3).
        return BatchStatus(batch_id=batch_id, is_complete=answer.get("status") == "complete", items=items)

    def _batch_status_response(self, batch_id: str) -> ProviderResponse:
        for index, template in enumerate(BATCH_STATUS_PATHS):
            response = self._http.request(
                "GET", template.format(id=batch_id), operation="payout_batch_get", raise_for_status=False
            )
            if response.status in (404, 405) and index + 1 < len(BATCH_STATUS_PATHS):
                continue
            if response.status != 200:
                raise wire.error_for(response, operation="payout_batch_get", moves_money=False)
            return response
        raise AssertionError("unreachable: the last path always returns or raises")

    # --- checkout sessions (docs/providers/wave.md §4) ------------------------------------

    def checkout_create(self, request: CheckoutRequest) -> CheckoutSession:
        if request.money.currency != "XOF":
            raise ProviderRejected(
                f"Wave checkout takes XOF, not {request.money.currency}", code=ErrorCode.UNSUPPORTED_CURRENCY
            )
        body = {
            "amount": request.money.to_decimal_string(),
            "currency": request.money.currency,
            "success_url": request.success_url,
            "error_url": request.error_url,
            "client_reference": request.reference,
        }
        if request.restrict_payer_msisdn:
            body["restrict_payer_mobile"] = request.restrict_payer_msisdn
        # Wave has no validity field (a session lives about 30 min, docs/providers/wave.md §4):
        # validity_seconds is not sent; expires_at reports Wave's own deadline. The
        # Idempotency-Key is optional for sessions but makes a retried create return the same session.
        response = self._call(
            "POST",
            "/v1/checkout/sessions",
            operation="checkout_create",
            json_body=body,
            idempotency_key=request.reference,
        )
        return wire.session_of(self._json(response, "checkout_create"))

    def checkout_get(self, provider_session_id: str) -> CheckoutSession:
        response = self._call("GET", f"/v1/checkout/sessions/{provider_session_id}", operation="checkout_get")
        return wire.session_of(self._json(response, "checkout_get"))

    def checkout_search(self, reference: str) -> list[CheckoutSession]:
        response = self._call(
            "GET", "/v1/checkout/sessions/search", operation="checkout_search", params={"client_reference": reference}
        )
        found = self._json(response, "checkout_search")
        sessions = found.get("result") if isinstance(found, Mapping) else None
        return [wire.session_of(item) for item in sessions or [] if isinstance(item, Mapping)]

    def checkout_expire(self, provider_session_id: str) -> CheckoutSession:
        # 200 with an empty body; 409 when already complete or expired (docs/providers/wave.md §4).
        self._call("POST", f"/v1/checkout/sessions/{provider_session_id}/expire", operation="checkout_expire")
        return self.checkout_get(provider_session_id)

    def checkout_refund(self, provider_session_id: str) -> CheckoutSession:
        # Money goes back to the payer: a lost answer is unknown, and a retry is safe because
        # Wave's refund is idempotent (docs/providers/wave.md §4).
        self._call(
            "POST", f"/v1/checkout/sessions/{provider_session_id}/refund", operation="checkout_refund", moves_money=True
        )
        return self.checkout_get(provider_session_id)

    def sandbox_pay_checkout(self, provider_session_id: str, payer_msisdn: str) -> CheckoutSession:
        # Our simulator's helper (docs/providers/wave.md "Sandbox"), never Wave's API.
        require_test_mode(self.settings.mode, "paying as a sandbox customer")
        self._call(
            "POST",
            f"/_test/checkout/{provider_session_id}/pay",
            operation="sandbox_pay",
            json_body={"payer_msisdn": payer_msisdn},
        )
        return self.checkout_get(provider_session_id)

    # --- balance (docs/providers/wave.md §5) ---------------------------------------------

    def day_record(self, business_date: date) -> DayRecord:
        """``GET /v1/transactions?date=`` every page (docs/providers/wave.md §9)."""
        lines: list[RecordLine] = []
        params = {"date": business_date.isoformat(), "first": str(RECORD_PAGE_SIZE)}
        while True:
            page = self._json(self._call("GET", "/v1/transactions", operation="transactions", params=params), "list")
            items = page.get("items") if isinstance(page, Mapping) else None
            info = page.get("page_info") if isinstance(page, Mapping) else None
            if not isinstance(items, list) or not isinstance(info, Mapping):
                raise RecordUnreadable("wave transactions: no items or page_info")
            lines.extend(wave_line(item) for item in items)
            if info.get("has_next_page") is not True:
                return DayRecord(provider=self.settings.provider_label, business_date=business_date, lines=tuple(lines))
            if not info.get("end_cursor"):
                raise RecordUnreadable("wave transactions: a next page without a cursor")
            params = {**params, "after": str(info["end_cursor"])}

    def balance(self) -> Money:
        answer = self._json(self._call("GET", "/v1/balance", operation="balance"), "balance")
        try:
            return money_from_provider(answer.get("amount"), answer.get("currency"))
        except (AttributeError, ValueError) as exc:
            raise ProviderRejected(f"wave balance: unexpected answer ({exc})", http_status=200) from exc

    # --- webhooks (docs/providers/wave.md §6) --------------------------------------------

    def _webhook_secrets(self) -> list[str]:
        secrets = [str(value) for value in self.settings.credentials.get("webhook_secrets") or []]
        single = self.settings.credentials.get("webhook_secret")
        return [str(single), *secrets] if single else secrets

    def verify_callback(self, headers: Mapping[str, str], raw_body: bytes, now: float) -> bool:
        return verify_wave_signature(header(headers, SIGNATURE_HEADER), raw_body, self._webhook_secrets(), now=now)

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> list[CallbackEvent]:
        payload = decode_json(raw_body)
        events = payload if isinstance(payload, list) else [payload]
        if not events or not all(isinstance(event, Mapping) for event in events):
            raise ValueError("a Wave callback is an event object (or a list of them)")
        return [wire.event_of(event) for event in events]
