"""Reading providers' answers: amounts without floats, Wave's several error shapes and its two
payout error channels, checkout statuses, Orange Money statuses, QR expiry and bulk callbacks."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.errors import ErrorCode, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderResponse, Timeouts
from core.money import Money
from mobilemoney.providers import orange_money_mapping as om
from mobilemoney.providers import wave_mapping as wave
from mobilemoney.providers.base import (
    CashInRequest,
    CheckoutStatus,
    EventKind,
    OperationStatus,
    PaymentStatus,
)
from mobilemoney.providers.orange_money import OrangeMoneyConnector
from mobilemoney.providers.wave import WaveConnector
from mobilemoney.providers.wire import decode_json, money_from_provider
from partners.registry import ConnectorSettings

OFFLINE_OM = ConnectorSettings(
    connection_id="pcn_offline",
    connector="orange_money",
    provider_code="orange-money",
    mode="test",
    base_url="http://127.0.0.1:9/",
    credentials={"client_id": "c", "client_secret": "s", "partner_msisdn": "+221771234567", "pin": "1234"},
    timeouts=Timeouts(connect=1, read=1),
    limits={},
)


def response(status: int, body: object, headers: dict[str, str] | None = None) -> ProviderResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ProviderResponse(status=status, headers=headers or {}, content=content, elapsed=0.01, url="http://x/")


# --- amounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [("1500", "XOF", 1500), (1500, "XOF", 1500), (Decimal("1500.0"), "XOF", 1500), ("12.50", "EUR", 1250)],
)
def test_provider_amounts_become_money_without_floats(value: object, currency: str, minor: int) -> None:
    assert money_from_provider(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"), [("12.5", "XOF"), (True, "XOF"), (1.5, "XOF"), ("abc", "XOF"), ("1", None)]
)
def test_unreadable_amounts_are_refused(value: object, currency: object) -> None:
    with pytest.raises(ValueError):
        money_from_provider(value, currency)


def test_json_floats_are_decoded_as_decimals() -> None:
    assert decode_json(b'{"value": 10.0}') == {"value": Decimal("10.0")}


# --- Wave errors (docs/providers/wave.md §2) ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"code": "insufficient-funds", "message": "m"},
        {"error": "insufficient-funds", "message": "m"},
        {"error_code": "insufficient-funds", "error_message": "m"},
        {"error": {"code": "insufficient-funds", "message": "m", "httpcode": 422}},
    ],
)
def test_wave_error_codes_are_found_in_every_documented_shape(body: dict[str, object]) -> None:
    assert wave.error_code(body) == "insufficient-funds"
    assert wave.error_message(body) == "m"


def test_wave_retry_rules() -> None:
    unknown = wave.error_for(response(503, {"code": "service-unavailable"}), operation="payout", moves_money=True)
    lost = wave.error_for(response(408, b""), operation="payout", moves_money=True)
    reading = wave.error_for(response(500, b"<html>"), operation="balance", moves_money=False)
    throttled = wave.error_for(
        response(429, {"code": "too-many-requests"}, {"Retry-After": "3"}), operation="payout", moves_money=True
    )
    assert isinstance(unknown, ProviderOutcomeUnknown) and unknown.provider_code == "service-unavailable"
    assert isinstance(lost, ProviderOutcomeUnknown)
    assert isinstance(reading, ProviderUnavailable)
    assert isinstance(throttled, ProviderUnavailable) and throttled.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (422, {"code": "insufficient-funds"}, ErrorCode.PROVIDER_INSUFFICIENT_FUNDS),
        (422, {"code": "recipient-account-blocked"}, ErrorCode.PROVIDER_REJECTED),
        (409, {"code": "idempotency-mismatch"}, ErrorCode.PROVIDER_REJECTED),
        (401, {"code": "api-key-revoked"}, ErrorCode.PROVIDER_NOT_CONFIGURED),
        (403, b"Forbidden", ErrorCode.PROVIDER_NOT_CONFIGURED),
        (404, {"code": "checkout-session-not-found"}, ErrorCode.NOT_FOUND),
    ],
)
def test_wave_final_errors_are_mapped(status: int, body: object, code: ErrorCode) -> None:
    error = wave.error_for(response(status, body), operation="payout", moves_money=True)
    assert isinstance(error, ProviderRejected)
    assert error.code is code
    assert error.http_status == status


def test_a_200_payout_with_payout_error_is_a_failure() -> None:
    payout = {
        "id": "pt-185sewgm8100t",
        "currency": "XOF",
        "receive_amount": "15000",
        "fee": "150",
        "mobile": "+221555110233",
        "client_reference": "txn_1",
        "status": "succeeded",
        "payout_error": {"error_code": "recipient-limit-exceeded", "error_message": "Monthly cap reached"},
    }
    result = wave.payout_result(payout)
    assert result.status is OperationStatus.FAILED
    assert (result.failure_code, result.provider_failure_code) == ("provider_rejected", "recipient-limit-exceeded")
    assert (result.money, result.fee_minor) == (Money(15000, "XOF"), 150)
    rejection = wave.rejection_of(result)
    assert rejection.code is ErrorCode.PROVIDER_REJECTED and rejection.provider_code == "recipient-limit-exceeded"


def test_payout_body_follows_the_wire_rules() -> None:
    request = CashInRequest(
        "txn_1", "+221771234567", Money(1000, "XOF"), "Awa Sow", "Remboursement de la commande 123456 du marché"
    )
    assert wave.payout_body(request) == {
        "currency": "XOF",
        "receive_amount": "1000",
        "mobile": "+221771234567",
        "client_reference": "txn_1",
        "name": "Awa Sow",
        "payment_reason": "Remboursement de la commande 123456 du m",
    }
    with pytest.raises(ProviderRejected) as refused:
        wave.payout_body(CashInRequest("txn_2", "+221771234567", Money(1000, "EUR")))
    assert refused.value.code is ErrorCode.UNSUPPORTED_CURRENCY


# --- Wave checkout sessions and events --------------------------------------------------------------

SESSION = {
    "id": "cos-18qq25rgr100a",
    "amount": "5000",
    "currency": "XOF",
    "checkout_status": "open",
    "payment_status": "processing",
    "client_reference": "txn_9",
    "transaction_id": None,
    "wave_launch_url": "https://pay.wave.com/c/cos-18qq25rgr100a",
    "last_payment_error": None,
    "when_expires": "2024-01-15T10:30:00Z",
}


@pytest.mark.parametrize(
    ("changes", "status", "payment"),
    [
        ({}, CheckoutStatus.OPEN, PaymentStatus.PROCESSING),
        (
            {"last_payment_error": {"code": "blocked-account", "message": "x"}},
            CheckoutStatus.OPEN,
            PaymentStatus.FAILED,
        ),
        (
            {"checkout_status": "complete", "payment_status": "succeeded"},
            CheckoutStatus.COMPLETE,
            PaymentStatus.SUCCEEDED,
        ),
        (
            {"checkout_status": "expired", "payment_status": "cancelled"},
            CheckoutStatus.EXPIRED,
            PaymentStatus.CANCELLED,
        ),
        (
            {"checkout_status": "complete", "payment_status": "succeeded", "when_refunded": "2024-01-15T11:00:00Z"},
            CheckoutStatus.COMPLETE,
            PaymentStatus.REFUNDED,
        ),
    ],
)
def test_wave_session_statuses(changes: dict[str, object], status: CheckoutStatus, payment: PaymentStatus) -> None:
    session = wave.session_of({**SESSION, **changes})
    assert (session.status, session.payment_status) == (status, payment)
    assert session.qr_png_base64 is None
    assert session.qr_payload == session.payment_url == SESSION["wave_launch_url"]
    assert session.expires_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def test_wave_events_of_interest_and_others() -> None:
    paid = {"id": "EV_1", "type": "checkout.session.completed", "data": {**SESSION, "checkout_status": "complete"}}
    other = {"id": "EV_2", "type": "merchant.payment_received", "data": {"id": "T_1", "amount": "100"}}
    event, ignored = wave.event_of(paid), wave.event_of(other)
    assert (event.kind, event.status, event.reference, event.money) == (
        EventKind.CHECKOUT,
        OperationStatus.SUCCEEDED,
        "txn_9",
        Money(5000, "XOF"),
    )
    assert (ignored.kind, ignored.status, ignored.event_id) == (EventKind.OTHER, None, "EV_2")
    with pytest.raises(ValueError):
        wave.event_of({"type": "checkout.session.completed", "data": {}})


# --- Orange Money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("SUCCESS", OperationStatus.SUCCEEDED),
        ("FAILED", OperationStatus.FAILED),
        ("REJECTED", OperationStatus.FAILED),
        ("CANCELLED", OperationStatus.FAILED),
        ("PENDING", OperationStatus.PROCESSING),
        ("PRE_INITIATED", OperationStatus.PROCESSING),
        (None, OperationStatus.PROCESSING),
    ],
)
def test_orange_money_statuses(status: object, expected: OperationStatus) -> None:
    assert om.operation_status(status) is expected


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            400,
            {"status": "400", "code": "2020", "detail": "Balance insufficient"},
            ErrorCode.PROVIDER_INSUFFICIENT_FUNDS,
        ),
        (
            400,
            {"status": "400", "code": 2000, "detail": "Customer account does not exist"},
            ErrorCode.PROVIDER_REJECTED,
        ),
        (400, {"status": "400", "code": "2011", "detail": "Wrong PIN"}, ErrorCode.PROVIDER_NOT_CONFIGURED),
        (
            401,
            {"error": "invalid_client", "error_description": "INVALID_CREDENTIALS"},
            ErrorCode.PROVIDER_NOT_CONFIGURED,
        ),
        (404, {"status": "404", "code": "404"}, ErrorCode.NOT_FOUND),
    ],
)
def test_orange_money_problem_bodies_are_mapped(status: int, body: object, code: ErrorCode) -> None:
    error = om.error_for(response(status, body), operation="cash_in", moves_money=True)
    assert isinstance(error, ProviderRejected)
    assert error.code is code


TRANSACTION = {
    "amount": {"value": Decimal("10.0"), "unit": "XOF"},
    "reference": "PROBE-10XOF-RECETTE",
    "partner": {"id": "621513", "idType": "CODE", "walletType": "PRINCIPAL"},
    "customer": {"id": "772490530", "idType": "MSISDN", "walletType": "PRINCIPAL"},
    "type": "MERCHANT_PAYMENT",
    "transactionId": "MP260909.1002.A34169",
    "status": "SUCCESS",
}


def test_an_orange_money_transaction_reads_back_in_e164_and_minor_units() -> None:
    session = om.payment_session(TRANSACTION)
    assert (session.provider_session_id, session.reference, session.money, session.payer_msisdn) == (
        "MP260909.1002.A34169",
        "PROBE-10XOF-RECETTE",
        Money(10, "XOF"),
        "+221772490530",
    )
    assert (session.status, session.payment_status) == (CheckoutStatus.COMPLETE, PaymentStatus.SUCCEEDED)


def test_a_qr_code_past_its_validity_is_expired() -> None:
    start = datetime(2026, 9, 9, 10, 0, tzinfo=UTC)
    qr = {
        "qrId": "q1",
        "amount": {"value": 1500, "unit": "XOF"},
        "deepLinks": {"OM": "https://om/x", "MAXIT": "https://maxit/x"},
        "shortLink": "https://s/x",
        "qrCode": "iVBORw0KGgo=",
        "validFor": {"startDateTime": "2026-09-09T10:00:00.000Z", "endDateTime": "2026-09-09T10:15:00.000Z"},
    }
    before = om.qr_session(qr, now=start + timedelta(minutes=14), reference="txn_1", money=None)
    after = om.qr_session(qr, now=start + timedelta(minutes=15), reference="txn_1", money=None)
    paid = om.qr_session({**qr, "status": "SUCCESS"}, now=start + timedelta(minutes=20), reference="txn_1", money=None)
    assert (before.status, after.status, paid.status) == (
        CheckoutStatus.OPEN,
        CheckoutStatus.EXPIRED,
        CheckoutStatus.COMPLETE,
    )
    assert before.app_links == {"OM": "https://om/x", "MAXIT": "https://maxit/x"}
    assert (before.payment_url, before.qr_png_base64) == ("https://s/x", "iVBORw0KGgo=")


def test_a_bulk_orange_money_notification_gives_one_event_per_transaction() -> None:
    cash_in = {**TRANSACTION, "type": "CASHIN", "transactionId": "CI1", "reference": "txn_2", "status": "FAILED"}
    raw = json.dumps(
        [{**TRANSACTION, "amount": {"value": 10.0, "unit": "XOF"}}, {**cash_in, "amount": {"value": 5, "unit": "XOF"}}]
    )
    connector = OrangeMoneyConnector(OFFLINE_OM)  # parsing is pure: no call is made
    events = connector.parse_callback({"X-Sonatel-Idempotency-Key": "k-1"}, raw.encode())
    assert [(e.event_id, e.kind, e.status, e.money) for e in events] == [
        ("k-1:0", EventKind.CHECKOUT, OperationStatus.SUCCEEDED, Money(10, "XOF")),
        ("k-1:1", EventKind.CASH_IN, OperationStatus.FAILED, Money(5, "XOF")),
    ]
    (single,) = connector.parse_callback(
        {"x-sonatel-idempotency-key": "k-2"}, json.dumps(cash_in | {"amount": {"value": 5, "unit": "XOF"}}).encode()
    )
    assert single.event_id == "k-2"
    with pytest.raises(ValueError):
        connector.parse_callback({}, b"not json")


@pytest.mark.parametrize(
    "connector",
    [
        lambda: OrangeMoneyConnector(dataclasses.replace(OFFLINE_OM, mode="live")),
        lambda: WaveConnector(
            dataclasses.replace(OFFLINE_OM, mode="live", connector="wave", credentials={"api_key": "k"})
        ),
    ],
    ids=["orange_money", "wave"],
)
def test_the_sandbox_payment_helper_is_refused_outside_test_mode_before_any_call(connector: Any) -> None:
    # The base URL is unreachable: reaching the network would raise ProviderUnavailable instead.
    with pytest.raises(ProviderRejected) as refused:
        connector().sandbox_pay_checkout("cos-1", "+221771234567")
    assert refused.value.code is ErrorCode.PERMISSION_DENIED


def test_a_collection_only_orange_money_connection_refuses_cash_in_before_any_call() -> None:
    credentials = {"client_id": "c", "client_secret": "s", "merchant_code": "621513"}
    connector = OrangeMoneyConnector(dataclasses.replace(OFFLINE_OM, credentials=credentials))
    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in(CashInRequest("txn_1", "+221771234567", Money(1000, "XOF")))
    assert refused.value.code is ErrorCode.PROVIDER_NOT_CONFIGURED
    with pytest.raises(ProviderRejected) as no_client:
        OrangeMoneyConnector(dataclasses.replace(OFFLINE_OM, credentials={"client_id": "c"}))
    assert no_client.value.code is ErrorCode.PROVIDER_NOT_CONFIGURED
