"""Issue 15, item 2: docs/providers/generic-wallet.yaml is the contract the generic_wallet
connector and its simulator speak. A conformance-like run goes through a recording proxy: every
request the connector sends and every answer the simulator gives is validated against the file,
every operation of the file is exercised, and every callback the simulator signs matches the
file's webhooks. The checker is shown to see a drift (a field broken on either side)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from core.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.money import Money
from mobilemoney.providers.generic_wallet import GenericWalletConnector
from sandbox.models import SimCallback
from sandbox.simulators import simulators
from tests.mobilemoney.harness import callback_url, cash_in_request, checkout_request, connector_settings, msisdn
from tests.providers.contract import Contract, Exchange, recording_proxy

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "providers" / "generic-wallet.yaml"
PREFIX = "/sandbox/generic-wallet"


@pytest.fixture
def contract() -> Contract:
    return Contract(CONTRACT)


def conformance_run(connector: GenericWalletConnector) -> None:
    """Every operation of the contract, with its success and its refusals."""
    connector.balance()
    paid = connector.cash_in(request := cash_in_request())
    connector.cash_in(request)  # a replay
    mismatch = dataclasses.replace(request, money=Money(2000, "XOF"))
    for refused in (mismatch, cash_in_request("9901"), cash_in_request("9904")):
        with pytest.raises(ProviderRejected):
            connector.cash_in(refused)
    flaky = cash_in_request("9903")
    with pytest.raises((ProviderOutcomeUnknown, ProviderUnavailable)):
        connector.cash_in(flaky)
    connector.cash_in(flaky)
    assert connector.cash_in_status(request.reference) is not None
    assert connector.cash_in_status(request.reference, paid.provider_reference) is not None
    assert connector.cash_in_status(request.reference, "gw_ci_unknown") is None  # a 404

    session = connector.checkout_create(checkout := checkout_request())
    connector.checkout_get(session.provider_session_id)
    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("9901"))  # its payment fails
    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("5678"))
    connector.checkout_search(checkout.reference)
    connector.checkout_refund(session.provider_session_id)
    connector.checkout_refund(session.provider_session_id)  # idempotent
    restricted = dataclasses.replace(checkout_request(), restrict_payer_msisdn=msisdn("4321"))
    other = connector.checkout_create(restricted)
    for refused_call in (
        lambda: connector.checkout_refund(other.provider_session_id),  # nothing paid
        lambda: connector.checkout_expire(other.provider_session_id),
        lambda: connector.checkout_expire(other.provider_session_id),  # no longer open
    ):
        try:
            refused_call()
        except ProviderRejected as exc:
            assert exc.http_status == 409


@pytest.mark.django_db(transaction=True)
def test_the_connector_and_the_simulator_speak_the_contract(live_server, contract: Contract) -> None:  # type: ignore[no-untyped-def]
    simulator = simulators()["generic_wallet"]
    credentials = simulator.open_account(callback_url(live_server.url + "/sandbox/", "generic_wallet"))
    with recording_proxy(live_server.url, PREFIX) as (proxy_url, exchanges):
        settings = connector_settings("generic_wallet", f"{proxy_url}{PREFIX}/", credentials)
        connector = GenericWalletConnector(settings)
        conformance_run(connector)
        stranger = GenericWalletConnector(dataclasses.replace(settings, credentials={"api_key": "not-a-key"}))
        with pytest.raises(ProviderRejected):
            stranger.balance()  # a 401

    problems = [problem for exchange in exchanges for problem in contract.problems(exchange)]
    assert problems == []
    assert contract.exercised == contract.operations()
    assert {e.status for e in exchanges} == {200, 401, 404, 409, 422, 500}
    events = list(SimCallback.objects.filter(provider="generic_wallet").order_by("pk"))
    seen = set()
    for callback in events:
        body, headers = bytes(callback.body), dict(callback.headers)
        webhook = "cashInEvent" if json.loads(body)["type"].startswith("cash_in") else "checkoutEvent"
        seen.add((webhook, json.loads(body)["type"]))
        assert contract.callback_problems(webhook, headers, body) == []
        assert connector.verify_callback(headers, body, callback.created_at.timestamp())
    assert {kind for _, kind in seen} == {"cash_in.succeeded", "checkout.completed", "checkout.payment_failed"}


CASH_IN_BODY = {"reference": "txn_1", "msisdn": "+221770001234", "amount": "1500", "currency": "XOF"}
CASH_IN = {
    **CASH_IN_BODY,
    "id": "gw_ci_1",
    "fee": "0",
    "status": "succeeded",
    "created_at": "2026-01-15T10:00:00Z",
    "completed_at": "2026-01-15T10:00:00Z",
}
HEADERS = {"Authorization": "Bearer k", "Idempotency-Key": "txn_1", "Content-Type": "application/json"}


def cash_in_exchange(body: dict, answer: dict, headers: dict | None = None, status: int = 200) -> Exchange:  # type: ignore[type-arg]
    raw, answered = json.dumps(body).encode(), json.dumps(answer).encode()
    return Exchange("POST", "/v1/cash-ins", HEADERS if headers is None else headers, raw, status, answered)


@pytest.mark.parametrize(
    ("exchange", "problem"),
    [
        (cash_in_exchange(CASH_IN_BODY, {k: v for k, v in CASH_IN.items() if k != "status"}), "'status' is a required"),
        (cash_in_exchange(CASH_IN_BODY, {**CASH_IN, "amount": 1500}), "amount: 1500 is not of type 'string'"),
        (cash_in_exchange(CASH_IN_BODY, {**CASH_IN, "status": "paid"}), "status: 'paid' is not one of"),
        (cash_in_exchange({**CASH_IN_BODY, "note": "x"}, CASH_IN), "Additional properties"),
        (cash_in_exchange(CASH_IN_BODY, CASH_IN, {"Authorization": "Bearer k"}), "Idempotency-Key missing"),
        (cash_in_exchange(CASH_IN_BODY, {"code": "teapot", "message": "no"}, status=418), "HTTP 418 not in"),
        (Exchange("GET", "/v1/payouts", HEADERS, b"", 200, b"{}"), "no such path"),
    ],
)
def test_the_checker_sees_a_drift_on_either_side(contract: Contract, exchange: Exchange, problem: str) -> None:
    assert contract.problems(cash_in_exchange(CASH_IN_BODY, CASH_IN)) == []  # the same, unbroken
    assert any(problem in found for found in contract.problems(exchange)), contract.problems(exchange)


def test_the_checker_sees_a_badly_signed_callback(contract: Contract) -> None:
    event = {"id": "ev_1", "type": "cash_in.succeeded", "created_at": "2026-01-15T10:00:00Z", "data": CASH_IN}
    body = json.dumps(event)
    good = {"Wallet-Signature": "t=1768471200,v1=" + "ab" * 32}

    assert contract.callback_problems("cashInEvent", good, body.encode()) == []
    assert contract.callback_problems("cashInEvent", {"Wallet-Signature": "sha256=ab"}, body.encode()) != []
    assert contract.callback_problems("cashInEvent", good, body.replace("cash_in.succeeded", "paid").encode()) != []
