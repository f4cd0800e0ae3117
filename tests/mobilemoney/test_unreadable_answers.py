"""A 2xx answer to a money-moving call that cannot be read leaves the outcome unknown: the money
may have moved, so it must never read as a refusal. The simulators always answer well-formed
JSON, so a small local server stands in at the HTTP seam (docs/architecture.md §10)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.errors import ProviderOutcomeUnknown
from core.http import Timeouts
from core.money import Money
from mobilemoney.providers.base import CashInBatchRequest, CashInRequest
from mobilemoney.providers.orange_money import OrangeMoneyConnector
from mobilemoney.providers.wave import WaveConnector
from partners.registry import ConnectorSettings

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PUBLIC = base64.b64encode(
    _KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()

ANSWERS = {
    "/oauth/v1/token": {"access_token": "t", "expires_in": 299},
    "/api/account/v1/publicKeys": {"keyId": "k", "keyType": "RSA", "keySize": 2048, "key": _PUBLIC},
    "/v1/payout-batch": {"no": "id"},
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(ANSWERS.get(self.path.split("?")[0], [])).encode()  # anything else: a bare []
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def settings(connector: str, base_url: str, credentials: dict[str, str]) -> ConnectorSettings:
    return ConnectorSettings("pcn_x", connector, connector, "test", base_url, credentials, Timeouts(1, 1), {})


REQUEST = CashInRequest("txn_1", "+221771234567", Money(1000, "XOF"))


def test_wave_payout_answered_with_an_unreadable_200_is_unknown(server: str) -> None:
    connector = WaveConnector(settings("wave", server, {"api_key": "k"}))
    with pytest.raises(ProviderOutcomeUnknown):
        connector.cash_in(REQUEST)
    with pytest.raises(ProviderOutcomeUnknown):
        connector.cash_in_batch(CashInBatchRequest("bat_1", (REQUEST,)))


def test_orange_money_cash_in_answered_with_an_unreadable_200_is_unknown(server: str) -> None:
    credentials = {"client_id": "c", "client_secret": "s", "partner_msisdn": "771111111", "pin": "1234"}
    connector = OrangeMoneyConnector(settings("orange_money", server, credentials))
    with pytest.raises(ProviderOutcomeUnknown):
        connector.cash_in(REQUEST)
