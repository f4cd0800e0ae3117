"""Interbank conformance: every InterbankConnector against its simulated partner bank, over HTTP.

The bank accepts a transfer at once (pacs.002 ``ACSP``) and decides it after the account's
settlement delay (0.3 s here): settled, or rejected with the reason of the beneficiary's account
marker (sandbox/banks/outcomes.py). At that moment its status query turns final and its signed
pacs.002 callback is due (a ``SimCallback`` row). A transfer that settles is one
``SimEffect(effect="interbank_transfer")`` under the connector's name and our reference.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from banking.providers.base import (
    InterbankConnector,
    Settlement,
    StatusMessageRejected,
    SubmissionResult,
    TransferOrder,
    TransferState,
    TransferStatus,
)
from banking.providers.partner_bank import sign_status_message
from core.errors import ProviderOutcomeUnknown, ProviderRejected
from core.ids import new_id
from core.money import Money
from partners.registry import ConnectorSettings, get_connector_class
from sandbox.banks.accounts import partner_account_register, partner_connector_credentials
from sandbox.models import SimCallback
from sandbox.services import effects_count
from sandbox.tasks import callback_deliver
from tests.banking.builders import waemu_iban
from tests.conformance.conftest import CONFORMANCE_TIMEOUTS, rail_connectors

pytestmark = pytest.mark.django_db(transaction=True)

SETTLEMENT_DELAY = 0.3
CALLBACK_URL = "http://127.0.0.1:9/callbacks/partner-bank"  # nothing listens: rows are inspected


def setup_partner_bank(sandbox_url: str, callback_url: str = CALLBACK_URL) -> ConnectorSettings:
    account = partner_account_register(callback_url=callback_url, settlement_delay_seconds=SETTLEMENT_DELAY)
    return ConnectorSettings(
        connection_id="pcn_conformance_partner_bank",
        connector="partner_bank",
        provider_code="partner-bank",
        mode="test",
        base_url=sandbox_url + "banks/partner/",
        credentials=partner_connector_credentials(account),
        timeouts=CONFORMANCE_TIMEOUTS,
        limits={},
    )


CONNECTORS = rail_connectors({"partner_bank": setup_partner_bank})


AMOUNT = Money(150_000, "XOF")


def transfer_order(account_number: str, *, amount: Money = AMOUNT) -> TransferOrder:
    return TransferOrder(
        reference=new_id("txn"),
        end_to_end_id="E2E-" + new_id("trf")[-20:],
        amount=amount,
        debtor_name="ACME SARL",
        debtor_account="SN08SN0100152000048500003035",
        debtor_agent_bic="CBAOSNDA",
        beneficiary_name="Fatou Ndiaye",
        iban=waemu_iban(account_number, bank="SN048", branch="01010"),
        bic="ECOCSNDA",
        settlement=Settlement.CLEARING if amount.minor <= 50_000_000 else Settlement.RTGS,
        remittance_information="Facture 2026-11-007",
    )


def transferred(connector_name: str, reference: str) -> int:
    return effects_count(provider=connector_name, reference=reference, effect="interbank_transfer")


def callbacks_for(connector_name: str, reference: str) -> list[SimCallback]:
    rows = SimCallback.objects.filter(provider=connector_name).order_by("pk")
    return [row for row in rows if reference.encode() in bytes(row.body)]


def final_status(connector: InterbankConnector, reference: str, timeout: float = 5.0) -> TransferStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = connector.transfer_status(reference)
        if status.status.is_final or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_transfer_is_accepted_then_settled_once(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000001234")
    result = connector.send_transfer(order)
    assert result.reference == order.reference
    assert (result.status, result.reason_code, result.is_duplicate) == (TransferState.ACCEPTED, None, False)
    assert result.provider_reference
    assert connector.transfer_status(order.reference).status is TransferState.ACCEPTED

    settled = final_status(connector, order.reference)
    assert (settled.reference, settled.status, settled.reason_code) == (order.reference, TransferState.SETTLED, None)
    assert settled.status_message_id
    assert transferred(connector_name, order.reference) == 1


def test_an_rtgs_transfer_settles(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000001234", amount=Money(75_000_000, "XOF"))
    assert order.settlement is Settlement.RTGS
    assert connector.send_transfer(order).status is TransferState.ACCEPTED
    assert final_status(connector, order.reference).status is TransferState.SETTLED
    assert transferred(connector_name, order.reference) == 1


@pytest.mark.parametrize(
    ("account_number", "reason_code"),
    [
        ("300000000001", "AC01"),
        ("300000000004", "AC04"),
        ("300000000006", "AC06"),
        ("300000009901", "AC06"),
        ("300000009904", "AM04"),
    ],
)
def test_a_transfer_accepted_then_rejected_moves_nothing(
    connector: InterbankConnector, connector_name: str, account_number: str, reason_code: str
) -> None:
    order = transfer_order(account_number)
    assert connector.send_transfer(order).status is TransferState.ACCEPTED
    rejected = final_status(connector, order.reference)
    assert (rejected.status, rejected.reason_code) == (TransferState.REJECTED, reason_code)
    assert rejected.reason_text
    assert transferred(connector_name, order.reference) == 0


def test_the_final_status_callback_is_signed_and_parses(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000000004")
    sent_at = time.time()
    connector.send_transfer(order)
    (callback,) = callbacks_for(connector_name, order.reference)
    assert callback.deliver_after.timestamp() >= sent_at + SETTLEMENT_DELAY - 0.05
    body, headers = bytes(callback.body), dict(callback.headers)
    assert headers["Content-Type"] == "application/xml"

    connector.verify_status_message(body, headers)
    (status,) = connector.parse_status_message(body)
    assert (status.reference, status.status, status.reason_code) == (order.reference, TransferState.REJECTED, "AC04")
    assert status.status_message_id == headers["X-Bank-Message-Id"]
    assert final_status(connector, order.reference).status is status.status  # query and callback agree


def test_status_message_signatures_are_checked(
    connector: InterbankConnector, connector_name: str, connector_settings: ConnectorSettings
) -> None:
    order = transfer_order("300000001234")
    connector.send_transfer(order)
    (callback,) = callbacks_for(connector_name, order.reference)
    body, headers = bytes(callback.body), dict(callback.headers)
    tampered = body.replace(b"ACSC", b"RJCT")
    forged = sign_status_message("not-the-secret", body, int(time.time()))
    stale = sign_status_message(connector_settings.credentials["webhook_secret"], body, int(time.time()) - 301)
    for raw, signature in ((tampered, headers["X-Bank-Signature"]), (body, forged), (body, stale)):
        with pytest.raises(StatusMessageRejected):
            connector.verify_status_message(raw, {"X-Bank-Signature": signature})
    with pytest.raises(StatusMessageRejected):
        connector.verify_status_message(body, {})


def test_the_same_reference_twice_sends_one_transfer(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000001234")
    first = connector.send_transfer(order)
    second = connector.send_transfer(order)
    assert second == replace(first, is_duplicate=True)
    assert transferred(connector_name, order.reference) == 1
    assert len(callbacks_for(connector_name, order.reference)) == 1


def test_a_reference_reused_for_another_transfer_is_refused(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000001234")
    connector.send_transfer(order)
    with pytest.raises(ProviderRejected) as refused:
        connector.send_transfer(replace(order, amount=Money(1, "XOF")))
    assert refused.value.http_status == 409
    assert transferred(connector_name, order.reference) == 1


def test_9902_the_answer_is_lost_but_the_transfer_arrived(
    connector: InterbankConnector, connector_name: str, settings: Any
) -> None:
    settings.SANDBOX_HANG_SECONDS = 2.0  # past the 1.5 s read timeout
    order = transfer_order("300000009902")
    with pytest.raises(ProviderOutcomeUnknown):
        connector.send_transfer(order)
    assert final_status(connector, order.reference).status is TransferState.SETTLED
    assert transferred(connector_name, order.reference) == 1
    again = connector.send_transfer(order)  # the bank knows it: a duplicate, not a second transfer
    assert (again.status, again.is_duplicate) == (TransferState.SETTLED, True)
    assert transferred(connector_name, order.reference) == 1


def test_9903_a_5xx_sends_nothing_and_the_retry_sends_once(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000009903")
    with pytest.raises(ProviderOutcomeUnknown) as lost:
        connector.send_transfer(order)
    assert lost.value.http_status == 503
    assert connector.transfer_status(order.reference).status is TransferState.NOT_FOUND
    assert transferred(connector_name, order.reference) == 0
    result = connector.send_transfer(order)
    assert (result.status, result.is_duplicate) == (TransferState.ACCEPTED, False)
    assert final_status(connector, order.reference).status is TransferState.SETTLED
    assert transferred(connector_name, order.reference) == 1


def test_9905_the_callback_comes_late_and_twice(connector: InterbankConnector, connector_name: str) -> None:
    order = transfer_order("300000009905")
    sent_at = time.time()
    connector.send_transfer(order)
    first, second = callbacks_for(connector_name, order.reference)
    assert bytes(first.body) == bytes(second.body)
    assert first.headers["X-Bank-Message-Id"] == second.headers["X-Bank-Message-Id"]
    assert first.deliver_after.timestamp() >= sent_at + SETTLEMENT_DELAY + 5 - 0.05
    assert second.deliver_after > first.deliver_after
    assert final_status(connector, order.reference).status is TransferState.SETTLED  # before any callback
    assert transferred(connector_name, order.reference) == 1


def test_an_unknown_reference_is_not_found(connector: InterbankConnector) -> None:
    reference = new_id("txn")
    assert connector.transfer_status(reference) == TransferStatus(reference, TransferState.NOT_FOUND)


def test_wrong_credentials_are_refused_and_send_nothing(
    connector_settings: ConnectorSettings, connector_name: str
) -> None:
    credentials = {**connector_settings.credentials, "api_key": "not-a-key"}
    connector = get_connector_class(connector_settings.connector)(replace(connector_settings, credentials=credentials))
    order = transfer_order("300000001234")
    with pytest.raises(ProviderRejected) as refused:
        connector.send_transfer(order)
    assert refused.value.http_status == 401
    assert transferred(connector_name, order.reference) == 0


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, dict[str, str]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Receiver.received.append((body, dict(self.headers)))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callbacks/partner-bank"
    server.shutdown()


def test_a_delivered_callback_verifies_and_parses_on_arrival(
    sandbox_url: str, connector_name: str, receiver: str
) -> None:
    setup: Any = CONNECTORS.setups[connector_name]  # every setup takes the callback URL
    settings = setup(sandbox_url, callback_url=receiver)
    connector: InterbankConnector = get_connector_class(settings.connector)(settings)
    order = transfer_order("300000001234")
    result: SubmissionResult = connector.send_transfer(order)
    assert result.status is TransferState.ACCEPTED
    (callback,) = callbacks_for(connector_name, order.reference)

    assert callback_deliver.apply(args=(callback.pk,)).get() == "delivered"  # the sandbox's delivery task

    ((body, headers),) = _Receiver.received
    connector.verify_status_message(body, headers)
    assert [(s.reference, s.status) for s in connector.parse_status_message(body)] == [
        (order.reference, TransferState.SETTLED)
    ]
