"""The Niirpay connector at the provider HTTP seam, for answers the simulator never gives:
unreadable bodies, answers about another payment, unknown codes, throttling, a pending status.
(The simulator covers the documented paths: tests/conformance/test_payments.py.)"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from core.errors import ErrorCode, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import Timeouts
from core.money import Money
from core.signing import parse_signature_header, verify
from partners.registry import ConnectorSettings, get_connector_class
from payments.providers.base import PaymentStatus
from payments.providers.niirpay import NiirpayConnector

SECRET = "np_secret_seam"
PAYMENT = {
    "reference": "txn_1",
    "transaction_id": "NPT20260901ABCDEF",
    "status": "PENDING",
    "amount": "5000",
    "fee": "100",
    "total": "5100",
    "currency": "XOF",
    "receipt": None,
    "failure": None,
}


class Provider(BaseHTTPRequestHandler):
    answer: ClassVar[tuple[int, bytes, dict[str, str]]] = (200, b"{}", {})
    seen: ClassVar[list[tuple[str, str, bytes, dict[str, str]]]] = []
    delay_seconds: ClassVar[float] = 0.0

    def log_message(self, *args: object) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        Provider.seen.append((self.command, self.path, self.rfile.read(length), dict(self.headers)))
        status, body, headers = Provider.answer
        time.sleep(Provider.delay_seconds)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):
            self.wfile.write(body)

    do_GET = do_POST = _handle


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/niirpay/"
    server.shutdown()


@pytest.fixture
def connector(base_url: str) -> Iterator[NiirpayConnector]:
    Provider.seen.clear()
    settings = ConnectorSettings(
        connection_id="pcn_seam",
        connector="niirpay",
        provider_code="niirpay",
        mode="test",
        base_url=base_url,
        credentials={"api_key": "np_key_seam", "api_secret": SECRET},
        timeouts=Timeouts(connect=2.0, read=1.0),
        limits={},
    )
    built = get_connector_class("niirpay")(settings)
    assert isinstance(built, NiirpayConnector)
    yield built
    built.close()


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    Provider.answer = (status, raw, {"Content-Type": "application/json", **(headers or {})})


def test_pay_is_signed_and_carries_the_reference_as_idempotency_key(connector: NiirpayConnector) -> None:
    answer(201, PAYMENT)

    result = connector.pay(quote_id="NQ1", reference="txn_1")

    method, path, body, headers = Provider.seen[-1]
    assert (method, path) == ("POST", "/niirpay/v1/payments")
    assert json.loads(body) == {"quote_id": "NQ1", "reference": "txn_1"}
    assert headers["Idempotency-Key"] == "txn_1"
    assert headers["Authorization"] == "Bearer np_key_seam"
    stamp, signatures = parse_signature_header(headers["X-Niirpay-Signature"])
    assert verify(SECRET, stamp, "POST", "/niirpay/v1/payments", body, signatures[0])
    assert result.status is PaymentStatus.PROCESSING and not result.is_final
    assert (result.amount_minor, result.fee_minor, result.total_minor) == (5_000, 100, 5_100)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        {**PAYMENT, "reference": "txn_other"},  # an answer about another payment
        {**PAYMENT, "amount": 5000.0},  # a float amount
        {**PAYMENT, "status": "DONE"},  # a status outside the contract
        {**PAYMENT, "status": "SUCCESSFUL"},  # success without a receipt
        {key: value for key, value in PAYMENT.items() if key != "transaction_id"},
    ],
)
def test_an_unreadable_payment_answer_is_unknown_never_a_failure(connector: NiirpayConnector, body: Any) -> None:
    answer(200, body)
    with pytest.raises(ProviderOutcomeUnknown):
        connector.pay(quote_id="NQ1", reference="txn_1")
    with pytest.raises(ProviderUnavailable):  # no answer to the question: ask again later
        connector.payment_status("txn_1")


def test_an_unreadable_read_is_unavailable(connector: NiirpayConnector) -> None:
    answer(200, b"not json")
    with pytest.raises(ProviderUnavailable):
        connector.list_billers()
    answer(200, {"available": 12.5, "currency": "XOF"})
    with pytest.raises(ProviderUnavailable):
        connector.balance()


def test_5xx_is_unavailable_on_reads_and_unknown_on_pay(connector: NiirpayConnector) -> None:
    answer(502, {"error": {"code": "QUOTE_EXPIRED"}})  # a 5xx body is not trusted
    with pytest.raises(ProviderUnavailable):
        connector.lookup(biller_code="SENELEC", customer_reference="012345678912")
    with pytest.raises(ProviderUnavailable):
        connector.payment_status("txn_1")
    with pytest.raises(ProviderOutcomeUnknown):
        connector.pay(quote_id="NQ1", reference="txn_1")


def test_a_read_timeout_is_unknown_on_pay_and_unavailable_elsewhere(connector: NiirpayConnector) -> None:
    Provider.delay_seconds = 1.3  # past the 1.0 s read timeout
    try:
        with pytest.raises(ProviderOutcomeUnknown):
            connector.pay(quote_id="NQ1", reference="txn_1")
        with pytest.raises(ProviderUnavailable):
            connector.payment_status("txn_1")
    finally:
        Provider.delay_seconds = 0.0


def test_throttling_is_unavailable_with_retry_after(connector: NiirpayConnector) -> None:
    answer(429, {"error": {"code": "RATE_LIMITED"}}, {"Retry-After": "7"})
    with pytest.raises(ProviderUnavailable) as throttled:
        connector.pay(quote_id="NQ1", reference="txn_1")
    assert throttled.value.retry_after == 7.0


def test_a_reference_still_in_progress_is_unknown(connector: NiirpayConnector) -> None:
    answer(409, {"error": {"code": "REQUEST_IN_PROGRESS", "message": "being processed"}})
    with pytest.raises(ProviderOutcomeUnknown):
        connector.pay(quote_id="NQ1", reference="txn_1")


def test_an_unknown_4xx_code_is_a_rejection_that_keeps_the_providers_code(connector: NiirpayConnector) -> None:
    answer(422, {"error": {"code": "CUSTOMER_DECEASED", "message": "?"}})
    with pytest.raises(ProviderRejected) as refused:
        connector.quote(biller_code="WOYOFAL", customer_reference="14212345678", amount=Money(1_000, "XOF"))
    assert refused.value.code is ErrorCode.PROVIDER_REJECTED
    assert refused.value.provider_code == "CUSTOMER_DECEASED" and refused.value.http_status == 422


def test_the_payment_status_path_escapes_the_reference(connector: NiirpayConnector) -> None:
    answer(200, {**PAYMENT, "reference": "txn:1"})
    assert connector.payment_status("txn:1").reference == "txn:1"
    _, path, _, headers = Provider.seen[-1]
    assert path == "/niirpay/v1/payments/txn%3A1"
    stamp, signatures = parse_signature_header(headers["X-Niirpay-Signature"])
    assert verify(SECRET, stamp, "GET", "/niirpay/v1/payments/txn:1", b"", signatures[0])  # decoded path


def test_programming_errors_never_reach_the_provider(connector: NiirpayConnector, base_url: str) -> None:
    with pytest.raises(ValueError):
        connector.quote(biller_code="SENELEC", customer_reference="012345678912")
    with pytest.raises(ValueError):
        connector.quote(
            biller_code="SENELEC", customer_reference="012345678912", bill_id="B1", amount=Money(100, "XOF")
        )
    with pytest.raises(ValueError):
        connector.pay(quote_id="NQ1", reference="a reference with spaces")
    with pytest.raises(ValueError):
        connector.payment_status("x" * 65)
    assert Provider.seen == []
