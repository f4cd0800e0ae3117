"""Conformance of the mobile-money rail: every connector against its simulator, over real HTTP.

Each test runs once per connector (``CONNECTORS``). Outcomes are chosen by the recipient's or
payer's MSISDN (docs/architecture.md §6); every failure path also proves, with the simulator's
``SimEffect`` rows and the float balance, that nothing was paid.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import threading
import time

import pytest

from core.errors import ErrorCode, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.money import Money
from mobilemoney.providers.base import (
    CashInBatchRequest,
    CheckoutStatus,
    EventKind,
    OperationStatus,
    PaymentStatus,
)
from mobilemoney.providers.installed import CONNECTOR_MODULES
from partners.registry import ConnectorSettings, connector_names, get_connector_class
from sandbox.services import effects_count
from sandbox.simulators import simulators
from tests.conformance.conftest import SetupFn, rail_connectors
from tests.mobilemoney.harness import (
    AMOUNT,
    SIDES,
    SandboxSide,
    callback_url,
    callbacks,
    cash_in_request,
    checkout_request,
    connector_settings,
    msisdn,
    reference,
    signature_timestamp,
    verified_events,
    with_foreign_secrets,
)

pytestmark = pytest.mark.django_db(transaction=True)


def installed_connectors() -> dict[str, SetupFn]:
    """Every connector of ``mobilemoney/providers/installed.py``, set up on its simulator
    (``sandbox/simulators.py``): a wallet's registry line is its registration here too."""
    setups: dict[str, SetupFn] = {}
    for name in connector_names():
        if get_connector_class(name).__module__ in CONNECTOR_MODULES:
            setups[name] = functools.partial(setup_on_simulator, name)
    return setups


def setup_on_simulator(name: str, sandbox_url: str) -> ConnectorSettings:
    simulator = simulators().get(name)
    assert simulator is not None, f"the connector {name!r} has no simulator (sandbox/<name>/simulator.py)"
    credentials = simulator.open_account(callback_url(sandbox_url, name.replace("_", "-")))
    return connector_settings(name, sandbox_url + simulator.prefix, credentials)


# A connector is done when it passes this module (docs/adding-a-provider.md): it runs here as soon
# as its module is listed in CONNECTOR_MODULES and its simulator declares itself.
CONNECTORS = rail_connectors(installed_connectors())


@pytest.fixture
def side(connector_name: str) -> SandboxSide:
    # the simulator records under the connector's name, a cash-in and a checkout payment, unless
    # it is one of the built-in ones (tests/mobilemoney/harness.py)
    return SIDES.get(connector_name) or SandboxSide(connector_name, "cash_in", "checkout_payment")


# --- cash-in -----------------------------------------------------------------------------------


def test_cash_in_succeeds_pays_once_and_debits_the_float(connector, side) -> None:
    before = connector.balance()
    request = cash_in_request()

    result = connector.cash_in(request)

    assert result.status is OperationStatus.SUCCEEDED
    assert result.reference == request.reference
    assert result.provider_reference
    assert result.money == AMOUNT
    assert effects_count(provider=side.provider, reference=request.reference, effect=side.cash_in_effect) == 1
    assert before - connector.balance() == AMOUNT + Money(result.fee_minor or 0, "XOF")
    expected_callbacks = 1 if connector.sends_cash_in_callbacks else 0  # Wave has no payout webhooks
    assert len(callbacks(side)) == expected_callbacks


def test_cash_in_status_reports_a_paid_cash_in(connector) -> None:
    request = cash_in_request()
    paid = connector.cash_in(request)

    by_reference = connector.cash_in_status(request.reference)
    by_id = connector.cash_in_status(request.reference, paid.provider_reference)

    assert by_reference is not None and by_reference.status is OperationStatus.SUCCEEDED
    assert by_reference.provider_reference == paid.provider_reference
    assert by_reference.msisdn == request.msisdn
    assert by_reference.money == AMOUNT
    assert by_id is not None and by_id.status is OperationStatus.SUCCEEDED
    assert connector.cash_in_status(reference()) is None


def test_repeated_cash_in_with_the_same_reference_pays_once(connector, side) -> None:
    before = connector.balance()
    request = cash_in_request()

    first = connector.cash_in(request)
    second = connector.cash_in(request)

    assert second.provider_reference == first.provider_reference
    assert effects_count(provider=side.provider, reference=request.reference) == 1
    assert before - connector.balance() == AMOUNT + Money(first.fee_minor or 0, "XOF")


def test_concurrent_retries_with_the_same_reference_pay_once(connector_settings, side) -> None:
    request = cash_in_request()
    barrier = threading.Barrier(6)
    results: list[str | None] = []

    def worker() -> None:
        connector = get_connector_class(connector_settings.connector)(connector_settings)
        barrier.wait()
        results.append(connector.cash_in(request).provider_reference)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 6 and len(set(results)) == 1
    assert effects_count(provider=side.provider, reference=request.reference) == 1


def test_same_reference_with_another_request_is_refused_and_pays_nothing_more(connector, side) -> None:
    request = cash_in_request()
    connector.cash_in(request)

    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in(dataclasses.replace(request, money=Money(2000, "XOF")))

    assert refused.value.http_status == 409
    assert refused.value.code is ErrorCode.PROVIDER_REJECTED
    assert effects_count(provider=side.provider, reference=request.reference) == 1


def test_9901_rejected_recipient_pays_nothing(connector, side) -> None:
    before = connector.balance()
    request = cash_in_request("9901")

    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in(request)

    assert refused.value.code is ErrorCode.PROVIDER_REJECTED
    assert refused.value.retryable is False
    assert refused.value.provider_code in {"recipient-account-blocked", "2000"}
    assert effects_count(provider=side.provider, reference=request.reference) == 0
    assert connector.balance() == before


def test_9902_timeout_is_unknown_then_the_status_query_says_succeeded(connector, side, settings) -> None:
    settings.SANDBOX_HANG_SECONDS = 2.0  # beyond the 1.5 s read timeout
    request = cash_in_request("9902")

    with pytest.raises(ProviderOutcomeUnknown):
        connector.cash_in(request)
    status = connector.cash_in_status(request.reference)
    retried = connector.cash_in(request)  # a retry with the same reference cannot pay twice

    assert status is not None and status.status is OperationStatus.SUCCEEDED
    assert retried.status is OperationStatus.SUCCEEDED
    assert retried.provider_reference == status.provider_reference
    assert effects_count(provider=side.provider, reference=request.reference) == 1


def test_9903_first_attempt_fails_with_5xx_and_the_retry_pays_once(connector, side) -> None:
    request = cash_in_request("9903")

    with pytest.raises((ProviderOutcomeUnknown, ProviderUnavailable)):
        connector.cash_in(request)
    assert effects_count(provider=side.provider, reference=request.reference) == 0
    result = connector.cash_in(request)

    assert result.status is OperationStatus.SUCCEEDED
    assert effects_count(provider=side.provider, reference=request.reference) == 1


def test_9904_insufficient_float_is_rejected_and_pays_nothing(connector, side) -> None:
    before = connector.balance()
    request = cash_in_request("9904")

    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in(request)

    assert refused.value.code is ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    assert refused.value.provider_code in {"insufficient-funds", "2020"}
    assert effects_count(provider=side.provider, reference=request.reference) == 0
    assert connector.balance() == before


def test_9905_succeeds_and_cash_in_notifications_come_late_and_twice(connector, side) -> None:
    request = cash_in_request("9905")

    result = connector.cash_in(request)

    assert result.status is OperationStatus.SUCCEEDED
    assert effects_count(provider=side.provider, reference=request.reference) == 1
    queued = callbacks(side)
    if not connector.sends_cash_in_callbacks:
        assert queued == []  # Wave: no payout webhooks; 9905 applies to checkout sessions
        return
    assert len(queued) == 2
    assert all((cb.deliver_after - cb.created_at).total_seconds() >= 4 for cb in queued)
    first, second = (verified_events(connector, cb) for cb in queued)
    assert first == second  # the same event delivered twice: one dedupe key
    (event,) = first
    assert event.kind is EventKind.CASH_IN
    assert event.reference == request.reference
    assert event.provider_reference == result.provider_reference
    assert event.status is OperationStatus.SUCCEEDED
    assert event.money == AMOUNT
    assert event.msisdn == request.msisdn


def test_batch_cash_in(connector, side) -> None:
    items = tuple(cash_in_request(suffix) for suffix in ("1111", "9901", "2222", "9904"))
    batch = CashInBatchRequest(reference=reference(), items=items)
    if not connector.supports_batch:
        with pytest.raises(ProviderRejected, match="not supported by"):
            connector.cash_in_batch(batch)
        return
    before = connector.balance()

    submission = connector.cash_in_batch(batch)
    polls = [connector.cash_in_batch_status(submission.batch_id) for _ in range(6)]
    again = connector.cash_in_batch(batch)

    assert again.batch_id == submission.batch_id
    assert polls[0].is_complete is False
    assert polls[-1].is_complete is True
    results = {result.reference: result for result in polls[-1].items}
    assert [results[item.reference].status for item in items] == [
        OperationStatus.SUCCEEDED,
        OperationStatus.FAILED,
        OperationStatus.SUCCEEDED,
        OperationStatus.FAILED,
    ]
    assert results[items[1].reference].failure_code == ErrorCode.PROVIDER_REJECTED
    assert results[items[3].reference].failure_code == ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    assert [effects_count(provider=side.provider, reference=item.reference) for item in items] == [1, 0, 1, 0]
    fees = sum(results[items[index].reference].fee_minor or 0 for index in (0, 2))
    assert before - connector.balance() == Money(2 * AMOUNT.minor + fees, "XOF")


# --- checkout sessions --------------------------------------------------------------------------


def test_checkout_create_get_pay_search(connector, side) -> None:
    request = checkout_request()

    created = connector.checkout_create(request)
    fetched = connector.checkout_get(created.provider_session_id)

    assert created.status is CheckoutStatus.OPEN and created.payment_status is PaymentStatus.PROCESSING
    assert created.money == request.money
    assert created.payment_url and created.qr_payload
    assert created.expires_at is not None
    if created.qr_png_base64 is not None:  # Orange Money draws the QR code; Wave does not
        assert base64.b64decode(created.qr_png_base64).startswith(b"\x89PNG")
    assert (fetched.provider_session_id, fetched.status, fetched.money) == (
        created.provider_session_id,
        CheckoutStatus.OPEN,
        request.money,
    )
    assert connector.sandbox_pay_checkout(created.provider_session_id, msisdn("5678")).status is CheckoutStatus.COMPLETE
    paid = connector.checkout_get(created.provider_session_id)
    found = connector.checkout_search(request.reference)

    assert (paid.status, paid.payment_status) == (CheckoutStatus.COMPLETE, PaymentStatus.SUCCEEDED)
    assert paid.provider_transaction_id
    assert [(s.reference, s.status, s.money) for s in found] == [
        (request.reference, CheckoutStatus.COMPLETE, request.money)
    ]
    assert effects_count(provider=side.provider, reference=request.reference, effect=side.checkout_effect) == 1
    with pytest.raises(ProviderRejected) as paid_twice:
        connector.sandbox_pay_checkout(created.provider_session_id, msisdn("5678"))
    assert paid_twice.value.http_status == 409
    assert effects_count(provider=side.provider, reference=request.reference) == 1


def test_checkout_callback_verifies_and_forgeries_are_refused(connector, connector_settings, side) -> None:
    request = checkout_request()
    session = connector.checkout_create(request)
    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("5678"))
    (callback,) = callbacks(side)
    headers, body = callback.headers, bytes(callback.body)

    (event,) = verified_events(connector, callback)
    stamp = signature_timestamp(headers)
    stranger = get_connector_class(connector_settings.connector)(with_foreign_secrets(connector_settings))

    assert event.kind is EventKind.CHECKOUT
    assert event.status is OperationStatus.SUCCEEDED
    assert event.reference == request.reference
    assert event.money == request.money
    assert event.event_id
    assert connector.verify_callback(headers, body.replace(b"2500", b"2600"), time.time()) is False
    assert connector.verify_callback(headers, body + b" ", time.time()) is False
    assert connector.verify_callback(headers, body, stamp + 301) is False
    assert connector.verify_callback(headers, body, stamp - 301) is False
    assert connector.verify_callback(headers, body, stamp + 300) is True
    assert stranger.verify_callback(headers, body, time.time()) is False
    unsigned = {key: value for key, value in headers.items() if "signature" not in key.lower()}
    assert connector.verify_callback(unsigned, body, time.time()) is False


def test_checkout_payment_failure_9901_is_reported_and_pays_nothing(connector, side) -> None:
    request = checkout_request()
    session = connector.checkout_create(request)

    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("9901"))
    (callback,) = callbacks(side)
    (event,) = verified_events(connector, callback)
    after = connector.checkout_get(session.provider_session_id)

    assert event.kind is EventKind.CHECKOUT
    assert event.status is OperationStatus.FAILED
    assert event.reference == request.reference
    assert after.payment_status is PaymentStatus.FAILED
    assert after.status is not CheckoutStatus.COMPLETE
    assert effects_count(provider=side.provider, reference=request.reference) == 0


def test_checkout_9905_callback_comes_late_and_twice(connector, side) -> None:
    request = checkout_request()
    session = connector.checkout_create(request)

    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("9905"))
    queued = callbacks(side)

    assert len(queued) == 2
    assert all((cb.deliver_after - cb.created_at).total_seconds() >= 4 for cb in queued)
    first, second = (verified_events(connector, cb) for cb in queued)
    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert [(e.reference, e.status) for e in first] == [(request.reference, OperationStatus.SUCCEEDED)]
    assert effects_count(provider=side.provider, reference=request.reference) == 1


def test_checkout_expire(connector, side) -> None:
    session = connector.checkout_create(checkout_request())
    if not connector.supports_checkout_expire:
        with pytest.raises(ProviderRejected, match=f"not supported by {connector.provider_name}"):
            connector.checkout_expire(session.provider_session_id)
        return

    expired = connector.checkout_expire(session.provider_session_id)

    assert (expired.status, expired.payment_status) == (CheckoutStatus.EXPIRED, PaymentStatus.CANCELLED)
    with pytest.raises(ProviderRejected) as refused:
        connector.checkout_expire(session.provider_session_id)
    assert refused.value.http_status == 409
    with pytest.raises(ProviderRejected) as closed:
        connector.sandbox_pay_checkout(session.provider_session_id, msisdn("5678"))
    assert closed.value.http_status == 409
    assert effects_count(provider=side.provider, reference=session.reference or "") == 0


def test_checkout_refund(connector, side) -> None:
    session = connector.checkout_create(checkout_request())
    if not connector.supports_checkout_refund:
        with pytest.raises(ProviderRejected, match=f"not supported by {connector.provider_name}"):
            connector.checkout_refund(session.provider_session_id)
        return
    with pytest.raises(ProviderRejected):
        connector.checkout_refund(session.provider_session_id)  # nothing paid yet
    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("5678"))
    before = connector.balance()

    refunded = connector.checkout_refund(session.provider_session_id)
    again = connector.checkout_refund(session.provider_session_id)

    assert refunded.payment_status is PaymentStatus.REFUNDED and refunded.refunded_at is not None
    assert again.payment_status is PaymentStatus.REFUNDED
    assert effects_count(provider=side.provider, reference=session.reference or "", effect="checkout_refund") == 1
    assert before - connector.balance() == session.money


def test_payer_restriction(connector, side) -> None:
    request = dataclasses.replace(checkout_request(), restrict_payer_msisdn=msisdn("4321"))
    if not connector.supports_payer_restriction:
        with pytest.raises(ProviderRejected, match=f"not supported by {connector.provider_name}"):
            connector.checkout_create(request)
        return
    session = connector.checkout_create(request)

    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("5678"))
    refused = connector.checkout_get(session.provider_session_id)
    connector.sandbox_pay_checkout(session.provider_session_id, msisdn("4321"))
    paid = connector.checkout_get(session.provider_session_id)

    assert (refused.payment_status, refused.provider_failure_code) == (PaymentStatus.FAILED, "payer-mobile-mismatch")
    assert paid.payment_status is PaymentStatus.SUCCEEDED
    assert effects_count(provider=side.provider, reference=request.reference) == 1
