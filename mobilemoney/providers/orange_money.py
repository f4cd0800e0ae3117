"""Orange Money Sénégal (Sonatel eWallet API) connector (docs/providers/orange_money.md): cash-in
from our retailer wallet, merchant QR codes (checkout), retailer balance, and notifications.

Credentials (``ConnectorSettings.credentials``):

- ``client_id``, ``client_secret``: the OAuth2 application (§2 of that page);
- ``partner_msisdn`` (our retailer wallet, E.164 or 9 digits) and ``pin`` (its PIN, sent only
  RSA-encrypted, §2);
- ``merchant_code`` (6 digits) and ``merchant_name``: the QR-code merchant (§4);
- ``callback_api_key``: the apiKey registered with our merchant callback, sent back to us as
  ``Authorization: Basic <apiKey>`` (§6);
- ``callback_signing_secret`` (or ``callback_signing_secrets``): the endpoint secret Sonatel
  issues for ``X-Sonatel-Signature``; when set, only signed callbacks are accepted (§6);
- ``callback_url`` (optional): sent as ``X-Callback-Url`` on QR codes (else the registered one).

Orange Money offers no batch cash-in endpoint that we know of (§3: the product exists, the
endpoint was not found) and no expiry or refund of a QR code: those operations raise
``ProviderRejected`` ("… is not supported by Orange Money").
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from core.errors import ErrorCode, ProviderOutcomeUnknown, ProviderRejected
from core.http import ProviderHttpClient, ProviderResponse
from core.money import Money
from core.provider_records import DayRecord, RecordLine, RecordUnreadable
from mobilemoney.providers import orange_money_mapping as wire
from mobilemoney.providers.base import (
    CallbackEvent,
    CashInRequest,
    CashInResult,
    CheckoutRequest,
    CheckoutSession,
    MobileMoneyProvider,
    OperationStatus,
    best_result,
    not_supported,
    require_test_mode,
)
from mobilemoney.providers.day_records import orange_money_line
from mobilemoney.providers.msisdn import MsisdnError, e164_to_sn_local, sn_local_to_e164
from mobilemoney.providers.orange_money_auth import (
    PublicKey,
    PublicKeyCache,
    SharedTokenCache,
    connection_cache_key,
    encrypt_pin,
)
from mobilemoney.providers.signatures import verify_sonatel_signature
from mobilemoney.providers.wire import decode_json, decode_json_answer, header, text
from partners.registry import ConnectorSettings, register

SIGNATURE_HEADER = "X-Sonatel-Signature"
IDEMPOTENCY_HEADER = "X-Sonatel-Idempotency-Key"
DEFAULT_QR_VALIDITY_SECONDS = 900
MAX_QR_VALIDITY_SECONDS = 86400  # docs/providers/orange_money.md §4
WALLET = "PRINCIPAL"
RECORD_PAGE_SIZE = 500  # the search's largest page (docs/providers/orange_money.md §10)
RECORD_MAX_PAGES = 10_000  # 5,000,000 transactions a day: past that, something is wrong


@register("orange_money")
class OrangeMoneyConnector(MobileMoneyProvider):
    """Orange Money Sénégal through Sonatel's API gateway."""

    provider_name = "Orange Money"
    supports_batch = False
    supports_checkout_expire = False
    supports_checkout_refund = False
    supports_payer_restriction = False
    sends_cash_in_callbacks = True  # with receiveNotification=true (docs/providers/orange_money.md §3)

    def __init__(self, settings: ConnectorSettings) -> None:
        credentials = settings.credentials
        for name in ("client_id", "client_secret"):
            if not credentials.get(name):
                raise ProviderRejected(
                    f"the Orange Money connection has no {name}", code=ErrorCode.PROVIDER_NOT_CONFIGURED
                )
        self.settings = settings
        self._client_id = str(credentials["client_id"])
        self._http = ProviderHttpClient(
            provider=settings.provider_label,
            base_url=settings.base_url,
            timeouts=settings.timeouts,
            default_headers={"Accept": "application/json"},
        )
        wait = settings.timeouts.connect + settings.timeouts.read + 1
        self._tokens = SharedTokenCache(
            connection_cache_key("token", settings.base_url, self._client_id), self._fetch_token, wait
        )
        self._keys = PublicKeyCache(
            connection_cache_key("public-key", settings.base_url, self._client_id), self._fetch_public_key
        )

    def close(self) -> None:
        self._http.close()

    # --- OAuth2 and the PIN key (docs/providers/orange_money.md §2) ----------------------

    def _fetch_token(self) -> tuple[str, int]:
        response = self._http.request(
            "POST",
            "/oauth/v1/token",
            operation="token",
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": str(self.settings.credentials["client_secret"]),
            },
            raise_for_status=False,
        )
        if response.status != 200:
            raise wire.error_for(response, operation="token", moves_money=False)
        answer = decode_json_answer(response.content, what="orange_money token")
        token = text(answer.get("access_token")) if isinstance(answer, Mapping) else None
        expires_in = answer.get("expires_in") if isinstance(answer, Mapping) else None
        if token is None or not isinstance(expires_in, int):
            raise ProviderRejected("orange_money token: no access_token/expires_in in the answer", http_status=200)
        return token, expires_in

    def _fetch_public_key(self) -> PublicKey:
        answer = self._json(self._call("GET", "/api/account/v1/publicKeys", operation="public_key"), "public_key")
        key = text(answer.get("key")) if isinstance(answer, Mapping) else None
        if key is None:
            raise ProviderRejected("orange_money publicKeys: no key in the answer", http_status=200)
        return PublicKey(key_id=text(answer.get("keyId")) or "", der_base64=key)

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
        extra_headers: Mapping[str, str] | None = None,
    ) -> ProviderResponse:
        """One authorised call. A 401 (token revoked or expired early) drops the shared token
        and retries once with a fresh one: nothing was done by the refused call."""
        for attempt in (1, 2):
            token = self._tokens.get()
            # Content-Type on every call, GET included: Sonatel answers 415 otherwise
            # (docs/providers/orange_money.md §2).
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(extra_headers or {})}
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
            if response.status == 401 and attempt == 1:
                self._tokens.invalidate(token)
                continue
            if not response.ok:
                raise wire.error_for(response, operation=operation, moves_money=moves_money)
            return response
        raise AssertionError("unreachable: the second attempt always returns or raises")

    def _call_with_pin(
        self, method: str, path: str, *, operation: str, moves_money: bool, body: Callable[[str], dict[str, Any]]
    ) -> ProviderResponse:
        """A call whose body carries ``encryptedPinCode``; on error 4003 (revoked key) the key is
        refetched and the call made once more (docs/providers/orange_money.md §2): the refused call
        did nothing."""
        pin = str(self.settings.credentials["pin"])
        for attempt in (1, 2):
            key = self._keys.get()
            try:
                return self._call(
                    method,
                    path,
                    operation=operation,
                    moves_money=moves_money,
                    json_body=body(encrypt_pin(pin, key.der_base64)),
                )
            except ProviderRejected as exc:
                if exc.provider_code != wire.PUBLIC_KEY_REVOKED or attempt == 2:
                    raise
                self._keys.invalidate()
        raise AssertionError("unreachable: the second attempt always returns or raises")

    def _json(self, response: ProviderResponse, operation: str) -> Any:
        return decode_json_answer(response.content, what=f"orange_money {operation}")

    def _retailer_msisdn(self) -> str:
        """Our retailer wallet in the 9-digit form; only cash-in and balance need it (a
        connection that only collects through QR codes may have none)."""
        configured = str(self.settings.credentials.get("partner_msisdn") or "")
        if not configured or not self.settings.credentials.get("pin"):
            raise ProviderRejected(
                "the Orange Money connection has no partner_msisdn and pin", code=ErrorCode.PROVIDER_NOT_CONFIGURED
            )
        try:
            return _local(configured)
        except ProviderRejected as exc:
            raise ProviderRejected(f"partner_msisdn: {exc}", code=ErrorCode.PROVIDER_NOT_CONFIGURED) from exc

    # --- cash-in (docs/providers/orange_money.md §3) --------------------------------------------

    def cash_in(self, request: CashInRequest) -> CashInResult:
        customer = _local(request.msisdn)
        amount_value = _xof_value(request.money)
        retailer = self._retailer_msisdn()

        def body(encrypted_pin: str) -> dict[str, Any]:
            # ``reference`` is our stable reference: a retry carries the same one, so a retry
            # is recognised and pays nothing more (docs/architecture.md §4 "Provider call").
            return {
                "partner": {"idType": "MSISDN", "id": retailer, "encryptedPinCode": encrypted_pin},
                "customer": {"idType": "MSISDN", "id": customer},
                "amount": {"value": amount_value, "unit": request.money.currency},
                "reference": request.reference,
                "receiveNotification": True,
            }

        response = self._call_with_pin(
            "POST", "/api/eWallet/v1/cashins", operation="cash_in", moves_money=True, body=body
        )
        answer = self._json(response, "cash_in")
        if not isinstance(answer, Mapping):  # a 2xx: the money may have moved, so never "rejected"
            raise ProviderOutcomeUnknown("orange_money cash_in: unreadable answer", http_status=response.status)
        result = wire.cash_in_result(answer, reference=request.reference, msisdn=request.msisdn, money=request.money)
        if result.status is OperationStatus.FAILED:
            raise ProviderRejected(
                f"orange_money cash_in: {answer.get('status')}: {result.failure_message or ''}".strip(),
                code=ErrorCode(result.failure_code or ErrorCode.PROVIDER_REJECTED),
                provider_code=result.provider_failure_code,
                http_status=response.status,
            )
        return result

    def cash_in_status(self, reference: str, provider_reference: str | None = None) -> CashInResult | None:
        if provider_reference:
            # the authoritative source of truth (docs/providers/orange_money.md §3): {"status": "SUCCESS"}
            path = f"/api/eWallet/v1/transactions/{provider_reference}/status"
            try:
                answer = self._json(self._call("GET", path, operation="cash_in_status"), "cash_in_status")
            except ProviderRejected as exc:
                if exc.code is ErrorCode.NOT_FOUND:
                    return None
                raise
            status = wire.operation_status(answer.get("status") if isinstance(answer, Mapping) else None)
            return CashInResult(reference=reference, provider_reference=provider_reference, status=status)
        results = [wire.transaction_result(item) for item in self._transactions(reference) if wire.is_cash_in(item)]
        return best_result([result for result in results if result.reference == reference])

    def _transactions(self, reference: str) -> list[Mapping[str, Any]]:
        """``GET /transactions?reference=`` answers a bare JSON array (docs/providers/orange_money.md §3)."""
        response = self._call(
            "GET", "/api/eWallet/v1/transactions", operation="transactions", params={"reference": reference}
        )
        answer = self._json(response, "transactions")
        return [item for item in answer if isinstance(item, Mapping)] if isinstance(answer, list) else []

    def day_record(self, business_date: date) -> DayRecord:
        """The transaction search over the day, page after page until an empty one
        (docs/providers/orange_money.md §10: a page may be short, so its length proves nothing)."""
        start = datetime.combine(business_date, time.min, tzinfo=timezone.get_current_timezone())
        window = {
            "fromDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "toDateTime": (start + timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size": str(RECORD_PAGE_SIZE),
        }
        lines: list[RecordLine] = []
        for page in range(RECORD_MAX_PAGES):
            params = {**window, "page": str(page)}
            answer = self._json(
                self._call("GET", "/api/eWallet/v1/transactions", operation="list", params=params), "list"
            )
            if not isinstance(answer, list):
                raise RecordUnreadable("orange_money transactions: not an array")
            if not answer:
                return DayRecord(provider="orange_money", business_date=business_date, lines=tuple(lines))
            lines.extend(line for line in map(orange_money_line, answer) if line is not None)
        raise RecordUnreadable(f"orange_money transactions: more than {RECORD_MAX_PAGES} pages")

    # --- checkout: QR code v4 (docs/providers/orange_money.md §4) -------------------------------

    def checkout_create(self, request: CheckoutRequest) -> CheckoutSession:
        if request.restrict_payer_msisdn:
            raise not_supported(self.provider_name, "restricting the payer of a QR code")
        validity = request.validity_seconds or DEFAULT_QR_VALIDITY_SECONDS
        if validity > MAX_QR_VALIDITY_SECONDS:
            raise ProviderRejected(f"Orange Money QR codes live {MAX_QR_VALIDITY_SECONDS} s at most")
        credentials = self.settings.credentials
        if not credentials.get("merchant_code"):
            raise ProviderRejected(
                "the Orange Money connection has no merchant_code", code=ErrorCode.PROVIDER_NOT_CONFIGURED
            )
        body = {
            "code": str(credentials["merchant_code"]),
            "name": str(credentials.get("merchant_name") or ""),
            "amount": {"unit": request.money.currency, "value": _xof_value(request.money)},
            "validity": validity,
            "reference": request.reference,
            "callbackSuccessUrl": request.success_url,
            "callbackCancelUrl": request.error_url,
        }
        callback_url = credentials.get("callback_url")
        headers = {"X-Callback-Url": str(callback_url)} if callback_url else None
        response = self._call(
            "POST", "/api/eWallet/v4/qrcode", operation="checkout_create", json_body=body, extra_headers=headers
        )
        answer = self._json(response, "checkout_create")
        return wire.qr_session(answer, now=timezone.now(), reference=request.reference, money=request.money)

    def checkout_get(self, provider_session_id: str) -> CheckoutSession:
        response = self._call("GET", f"/api/eWallet/v4/qrcode/{provider_session_id}", operation="checkout_get")
        return wire.qr_session(self._json(response, "checkout_get"), now=timezone.now(), reference=None, money=None)

    def checkout_search(self, reference: str) -> list[CheckoutSession]:
        # Only paid (or failed) payments are listed: unpaid QR codes never appear
        # (docs/providers/orange_money.md §4).
        return [
            wire.payment_session(item)
            for item in self._transactions(reference)
            if wire.is_merchant_payment(item) and item.get("reference") == reference
        ]

    # checkout_expire / checkout_refund: Orange Money has neither (the base class refuses).

    def sandbox_pay_checkout(self, provider_session_id: str, payer_msisdn: str) -> CheckoutSession:
        # Our simulator's helper (docs/providers/orange_money.md "Sandbox"), never Sonatel's API.
        require_test_mode(self.settings.mode, "paying as a sandbox customer")
        response = self._http.request(
            "POST",
            f"/_test/qrcode/{provider_session_id}/pay",
            operation="sandbox_pay",
            json_body={"payer_msisdn": payer_msisdn},
            raise_for_status=False,
        )
        if not response.ok:
            raise wire.error_for(response, operation="sandbox_pay", moves_money=False)
        return self.checkout_get(provider_session_id)

    # --- balance -----------------------------------------------------------------------------

    def balance(self) -> Money:
        retailer = self._retailer_msisdn()

        def body(encrypted_pin: str) -> dict[str, Any]:
            return {"idType": "MSISDN", "id": retailer, "encryptedPinCode": encrypted_pin, "wallet": WALLET}

        # A POST: it carries the PIN (docs/providers/orange_money.md §5).
        path = "/api/eWallet/v1/account/retailer/balance"
        answer = self._json(
            self._call_with_pin("POST", path, operation="balance", moves_money=False, body=body), "balance"
        )
        money = wire.money_of(answer)
        if money is None:
            raise ProviderRejected("orange_money balance: unexpected answer", http_status=200)
        return money

    # --- notifications (docs/providers/orange_money.md §6) --------------------------------------

    def _signing_secrets(self) -> list[str]:
        credentials = self.settings.credentials
        secrets = [str(value) for value in credentials.get("callback_signing_secrets") or []]
        single = credentials.get("callback_signing_secret")
        return [str(single), *secrets] if single else secrets

    def verify_callback(self, headers: Mapping[str, str], raw_body: bytes, now: float) -> bool:
        secrets = self._signing_secrets()
        if secrets:
            return verify_sonatel_signature(header(headers, SIGNATURE_HEADER), raw_body, secrets, now=now)
        # No endpoint secret issued: Sonatel sends the registered apiKey
        # (docs/providers/orange_money.md §6).
        api_key = str(self.settings.credentials.get("callback_api_key") or "")
        scheme, _, value = (header(headers, "Authorization") or "").partition(" ")
        if not api_key or scheme.lower() != "basic":
            return False
        return hmac.compare_digest(value.strip().encode("utf-8"), api_key.encode("utf-8"))

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> list[CallbackEvent]:
        payload = decode_json(raw_body)
        items = payload if isinstance(payload, list) else [payload]
        if not items or not all(isinstance(item, Mapping) for item in items):
            raise ValueError("an Orange Money notification is a transaction object (or a list of them)")
        delivery_key = header(headers, IDEMPOTENCY_HEADER)
        events = []
        for index, item in enumerate(items):
            if delivery_key:
                event_id = delivery_key if len(items) == 1 else f"{delivery_key}:{index}"
            else:  # no dedupe key sent: the transaction and its status identify the event
                event_id = f"{item.get('transactionId')}:{item.get('status')}"
            events.append(wire.event_of(item, event_id=event_id))
        return events


def _local(msisdn: str) -> str:
    """9 local digits for Orange Money, from E.164 (or already local, for our own wallet)."""
    try:
        return e164_to_sn_local(msisdn if msisdn.startswith("+") else sn_local_to_e164(msisdn))
    except MsisdnError as exc:
        raise ProviderRejected("Orange Money Sénégal reaches +221 numbers of 9 digits only") from exc


def _xof_value(money: Money) -> int:
    if money.currency != "XOF":
        raise ProviderRejected(
            f"Orange Money Sénégal moves XOF, not {money.currency}", code=ErrorCode.UNSUPPORTED_CURRENCY
        )
    return money.minor
