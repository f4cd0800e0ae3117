"""The provider HTTP client against a real local HTTP server: typed errors, no redirects,
mandatory timeouts, latency metrics, masked logs."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import REGISTRY

from core.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderHttpClient, Timeouts


class Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes, dict[str, str]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (read-timeout test)
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.handle_any("GET")

    def do_POST(self) -> None:
        self.handle_any("POST")

    def handle_any(self, method: str) -> None:
        body = self._body()
        Handler.seen.append((method, self.path, body, dict(self.headers)))
        route = self.path.split("?")[0]
        if route == "/ok":
            self._answer(200, json.dumps({"echo": body.decode(), "path": self.path}).encode())
        elif route == "/error-500":
            self._answer(500, b'{"code":"internal-server-error"}')
        elif route == "/throttled":
            self._answer(429, b'{"code":"too-many-requests"}', {"Retry-After": "3"})
        elif route == "/rejected":
            self._answer(422, b'{"code":"recipient-account-blocked","pin":"1234"}')
        elif route == "/redirect":
            self._answer(302, b"", {"Location": "http://169.254.169.254/latest"})
        elif route == "/slow":
            time.sleep(1.5)
            self._answer(200)
        elif route == "/drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif route == "/not-json":
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"<html")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def client(server: str) -> ProviderHttpClient:
    return ProviderHttpClient(provider="testprov", base_url=server, timeouts=Timeouts(connect=1, read=0.5))


def metric(operation: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "addon_provider_call_seconds_count", {"provider": "testprov", "operation": operation, "outcome": outcome}
    )
    return value or 0.0


def test_timeouts_are_mandatory() -> None:
    with pytest.raises(TypeError):
        Timeouts()  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Timeouts(connect=0, read=5)


def test_success_returns_body_and_observes_latency(client: ProviderHttpClient) -> None:
    before = metric("echo", "ok")
    response = client.request("POST", "/ok?x=1", operation="echo", json_body={"amount": "1500"})
    assert response.status == 200
    assert response.json()["echo"] == '{"amount":"1500"}'
    assert response.json()["path"] == "/ok?x=1"
    assert metric("echo", "ok") == before + 1


def test_5xx_on_a_money_moving_call_is_outcome_unknown(client: ProviderHttpClient) -> None:
    with pytest.raises(ProviderOutcomeUnknown) as info:
        client.request("POST", "/error-500", operation="payout", moves_money=True)
    assert info.value.retryable is True and info.value.http_status == 500


def test_5xx_on_a_read_is_unavailable(client: ProviderHttpClient) -> None:
    with pytest.raises(ProviderUnavailable):
        client.request("GET", "/error-500", operation="balance")


def test_429_is_unavailable_with_retry_after(client: ProviderHttpClient) -> None:
    with pytest.raises(ProviderUnavailable) as info:
        client.request("POST", "/throttled", operation="payout", moves_money=True)
    assert info.value.retry_after == 3.0


def test_4xx_is_rejected_and_not_retryable(client: ProviderHttpClient, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ProviderRejected) as info:
        client.request("POST", "/rejected", operation="payout", moves_money=True)
    assert info.value.retryable is False and info.value.http_status == 422
    assert "1234" not in str(info.value)  # the excerpt is masked


def test_redirects_are_never_followed(client: ProviderHttpClient) -> None:
    Handler.seen.clear()
    with pytest.raises(ProviderRejected):
        client.request("GET", "/redirect", operation="status")
    assert [path for _, path, _, _ in Handler.seen] == ["/redirect"]


def test_read_timeout_is_outcome_unknown(client: ProviderHttpClient) -> None:
    before = metric("payout", "timeout")
    with pytest.raises(ProviderOutcomeUnknown):
        client.request("POST", "/slow", operation="payout", moves_money=True)
    assert metric("payout", "timeout") == before + 1


def test_connection_lost_after_sending_is_outcome_unknown(client: ProviderHttpClient) -> None:
    with pytest.raises(ProviderOutcomeUnknown):
        client.request("POST", "/drop", operation="payout", moves_money=True)


def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ProviderHttpClient(provider="testprov", base_url=f"http://127.0.0.1:{port}", timeouts=Timeouts(1, 1))
    with pytest.raises(ProviderUnavailable):
        client.request("POST", "/ok", operation="payout", moves_money=True)


def test_a_body_that_is_not_json_is_unknown(client: ProviderHttpClient) -> None:
    response = client.request("GET", "/not-json", operation="status")
    with pytest.raises(ProviderOutcomeUnknown):
        response.json()


def test_logs_are_masked(client: ProviderHttpClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="core.http")
    client.request("GET", "/ok", operation="lookup", params={"msisdn": "+221771234567"})
    text = " ".join(r.getMessage() + str(r.__dict__.get("url")) for r in caplog.records)
    assert "771234567" not in text
