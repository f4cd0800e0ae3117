"""Bill-payment rail conformance: every BillPaymentProvider connector against its simulator.

A connector's setup takes the sandbox URL and optional knobs (``quote_ttl_seconds``,
``float_xof``, ``unavailable_billers``), registers a fresh provider-side account and returns
its ConnectorSettings. The simulator records money-moving effects under the connector's name
with effect ``bill_payment`` and our payment reference, so every test can count exactly what
was paid. Outcomes follow the customer reference (docs/architecture.md §6).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from typing import Any

import pytest

from core.errors import ErrorCode, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.ids import new_id
from core.money import Money
from partners.registry import ConnectorSettings, get_connector_class
from payments.providers.base import (
    BillerCategory,
    BillerKind,
    BillPaymentProvider,
    PaymentNotFound,
    PaymentStatus,
)
from sandbox.niirpay.accounts import register_account
from tests.conformance.conftest import CONFORMANCE_TIMEOUTS, rail_connectors
from tests.payments.rail import biller_of, paid, quote_for, reference_ending

pytestmark = pytest.mark.django_db(transaction=True)


def setup_niirpay(sandbox_url: str, **knobs: Any) -> ConnectorSettings:
    api_key, api_secret = f"np_test_{secrets.token_hex(12)}", f"np_secret_{secrets.token_hex(16)}"
    register_account(api_key=api_key, api_secret=api_secret, **knobs)
    return ConnectorSettings(
        connection_id="pcn_conformance_niirpay",
        connector="niirpay",
        provider_code="niirpay",
        mode="test",
        base_url=sandbox_url + "niirpay/",
        credentials={"api_key": api_key, "api_secret": api_secret},
        timeouts=CONFORMANCE_TIMEOUTS,
        limits={},
    )


CONNECTORS = rail_connectors({"niirpay": setup_niirpay})


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def build(request: pytest.FixtureRequest, connector_name: str, sandbox_url: str) -> Any:
    """Another connector of the same kind, on a fresh provider account with the given knobs."""

    def _build(**knobs: Any) -> BillPaymentProvider:
        settings = CONNECTORS.setups[connector_name](sandbox_url, **knobs)
        connector: BillPaymentProvider = get_connector_class(settings.connector)(settings)
        return connector

    return _build


# --- catalogue and the happy path of every biller -------------------------------------------------


def test_catalogue_describes_every_biller(connector: BillPaymentProvider) -> None:
    billers = connector.list_billers()
    assert len({biller.code for biller in billers}) == len(billers) >= 1
    for biller in billers:
        assert biller.accepts_reference(biller.reference_example), biller.code
        assert not biller.accepts_reference(biller.reference_example + "0"), biller.code
        assert 0 < biller.min_amount_minor <= biller.max_amount_minor, biller.code
        assert biller.reference_label, biller.code
        assert all(biller.min_amount_minor <= offer.amount_minor <= biller.max_amount_minor for offer in biller.offers)


def test_every_biller_looks_up_quotes_and_pays(connector: BillPaymentProvider, connector_name: str) -> None:
    for biller in connector.list_billers():
        quote = quote_for(connector, biller, biller.reference_example)
        assert quote.total_minor == quote.amount_minor + quote.fee_minor
        assert quote.fee_minor >= 0 and quote.currency == biller.currency
        reference = new_id("txn")

        result = connector.pay(quote_id=quote.quote_id, reference=reference)

        assert result.status is PaymentStatus.SUCCEEDED, biller.code
        assert result.reference == reference and result.provider_reference
        assert (result.amount_minor, result.fee_minor, result.total_minor) == (
            quote.amount_minor,
            quote.fee_minor,
            quote.total_minor,
        )
        assert result.receipt is not None and result.receipt.receipt_number
        assert result.failure_code is None
        assert paid(connector_name, reference) == 1, biller.code
        assert connector.payment_status(reference) == result


def test_a_postpaid_bill_is_paid_in_full_and_leaves_the_open_bills(connector: BillPaymentProvider) -> None:
    biller = biller_of(connector, BillerKind.BILL)
    before = connector.lookup(biller_code=biller.code, customer_reference=biller.reference_example)
    assert before.customer_name and before.bills
    bill = before.bills[0]

    quote = connector.quote(biller_code=biller.code, customer_reference=biller.reference_example, bill_id=bill.bill_id)
    result = connector.pay(quote_id=quote.quote_id, reference=new_id("txn"))

    assert quote.bill_id == bill.bill_id and quote.amount_minor == bill.amount_minor
    assert result.status is PaymentStatus.SUCCEEDED
    after = connector.lookup(biller_code=biller.code, customer_reference=biller.reference_example)
    assert after.bills == before.bills[1:]


def test_prepaid_electricity_returns_three_20_digit_tokens_and_the_kwh(
    connector: BillPaymentProvider, connector_name: str
) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.ELECTRICITY)
    lookup = connector.lookup(biller_code=biller.code, customer_reference=biller.reference_example)
    assert (lookup.min_amount_minor, lookup.max_amount_minor) == (biller.min_amount_minor, biller.max_amount_minor)
    assert lookup.bills == ()
    quote = connector.quote(
        biller_code=biller.code, customer_reference=biller.reference_example, amount=Money(5_000, "XOF")
    )
    reference = new_id("txn")

    result = connector.pay(quote_id=quote.quote_id, reference=reference)

    assert result.status is PaymentStatus.SUCCEEDED and result.receipt is not None
    tokens = result.receipt.tokens
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(len(token) == 20 and token.isdigit() for token in tokens)
    assert result.receipt.kwh is not None and result.receipt.kwh > 0
    assert connector.payment_status(reference).receipt == result.receipt  # the same tokens, in order
    assert paid(connector_name, reference) == 1


def test_other_billers_return_no_tokens(connector: BillPaymentProvider) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.AIRTIME)
    quote = connector.quote(
        biller_code=biller.code, customer_reference=biller.reference_example, amount=Money(500, "XOF")
    )
    result = connector.pay(quote_id=quote.quote_id, reference=new_id("txn"))
    assert result.receipt is not None and result.receipt.tokens == () and result.receipt.kwh is None


def test_balance_decreases_by_the_total_paid(connector: BillPaymentProvider) -> None:
    before = connector.balance()
    biller = biller_of(connector, BillerKind.BILL)
    first = connector.pay(
        quote_id=quote_for(connector, biller, biller.reference_example).quote_id, reference=new_id("txn")
    )
    airtime = biller_of(connector, BillerKind.PREPAID, BillerCategory.AIRTIME)
    second = connector.pay(
        quote_id=quote_for(connector, airtime, airtime.reference_example).quote_id, reference=new_id("txn")
    )

    assert connector.balance() == before - Money(first.total_minor + second.total_minor, before.currency)


# --- sandbox outcomes by customer reference (docs/architecture.md §6) ----------------------------------------


def test_9901_the_provider_rejects_and_nothing_is_paid(connector: BillPaymentProvider, connector_name: str) -> None:
    biller = biller_of(connector, BillerKind.BILL)
    customer_reference = reference_ending(biller, "9901")
    quote = quote_for(connector, biller, customer_reference)
    balance = connector.balance()
    reference = new_id("txn")

    result = connector.pay(quote_id=quote.quote_id, reference=reference)

    assert result.status is PaymentStatus.FAILED
    assert result.failure_code is ErrorCode.PROVIDER_REJECTED and result.receipt is None
    assert connector.payment_status(reference) == result
    assert connector.pay(quote_id=quote.quote_id, reference=reference) == result  # the same answer again
    assert paid(connector_name, reference) == 0
    assert connector.balance() == balance
    lookup = connector.lookup(biller_code=biller.code, customer_reference=customer_reference)
    assert quote.bill_id in {bill.bill_id for bill in lookup.bills}  # still owed


def test_9902_the_answer_is_lost_then_the_status_says_succeeded(
    connector: BillPaymentProvider, connector_name: str, settings: Any
) -> None:
    settings.SANDBOX_HANG_SECONDS = 2.0  # past the 1.5 s read timeout
    biller = biller_of(connector, BillerKind.BILL)
    quote = quote_for(connector, biller, reference_ending(biller, "9902"))
    balance = connector.balance()
    reference = new_id("txn")

    with pytest.raises(ProviderOutcomeUnknown):
        connector.pay(quote_id=quote.quote_id, reference=reference)

    status = connector.payment_status(reference)
    assert status.status is PaymentStatus.SUCCEEDED and status.receipt is not None
    assert paid(connector_name, reference) == 1
    retried = connector.pay(quote_id=quote.quote_id, reference=reference)  # a replay: no second hang, no payment
    assert retried == status
    assert paid(connector_name, reference) == 1
    assert connector.balance() == balance - Money(quote.total_minor, quote.currency)


def test_9903_a_5xx_pays_nothing_and_the_retry_with_the_same_reference_pays_once(
    connector: BillPaymentProvider, connector_name: str
) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.ELECTRICITY)
    quote = quote_for(connector, biller, reference_ending(biller, "9903"))
    reference = new_id("txn")

    with pytest.raises(ProviderOutcomeUnknown) as lost:
        connector.pay(quote_id=quote.quote_id, reference=reference)

    assert lost.value.http_status is not None and lost.value.http_status >= 500
    assert paid(connector_name, reference) == 0
    with pytest.raises(PaymentNotFound):
        connector.payment_status(reference)
    result = connector.pay(quote_id=quote.quote_id, reference=reference)
    assert result.status is PaymentStatus.SUCCEEDED
    assert paid(connector_name, reference) == 1
    assert connector.pay(quote_id=quote.quote_id, reference=reference) == result
    assert paid(connector_name, reference) == 1


def test_9904_insufficient_float_fails_and_nothing_is_paid(connector: BillPaymentProvider, connector_name: str) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.AIRTIME)
    quote = quote_for(connector, biller, reference_ending(biller, "9904"))
    balance = connector.balance()
    reference = new_id("txn")

    result = connector.pay(quote_id=quote.quote_id, reference=reference)

    assert result.status is PaymentStatus.FAILED
    assert result.failure_code is ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    assert connector.payment_status(reference).failure_code is ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    assert paid(connector_name, reference) == 0
    assert connector.balance() == balance


def test_9905_succeeds_once(connector: BillPaymentProvider, connector_name: str) -> None:
    # Bill payments have no provider notifications in this rail's contract: 9905 is a plain success.
    biller = biller_of(connector, BillerKind.BILL)
    quote = quote_for(connector, biller, reference_ending(biller, "9905"))
    reference = new_id("txn")

    result = connector.pay(quote_id=quote.quote_id, reference=reference)

    assert result.status is PaymentStatus.SUCCEEDED
    assert connector.payment_status(reference) == result
    assert paid(connector_name, reference) == 1


def test_a_float_too_low_for_the_total_fails_and_pays_nothing(build: Any, connector_name: str) -> None:
    connector = build(float_xof=1_000)
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.AIRTIME)
    quote = connector.quote(
        biller_code=biller.code, customer_reference=biller.reference_example, amount=Money(1_500, "XOF")
    )
    reference = new_id("txn")

    result = connector.pay(quote_id=quote.quote_id, reference=reference)

    assert result.failure_code is ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    assert paid(connector_name, reference) == 0
    assert connector.balance() == Money(1_000, "XOF")


# --- idempotency: never twice for one reference ------------------------------------------------------


def test_paying_twice_with_the_same_reference_pays_once(connector: BillPaymentProvider, connector_name: str) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.ELECTRICITY)
    quote = quote_for(connector, biller, biller.reference_example)
    balance = connector.balance()
    reference = new_id("txn")

    first = connector.pay(quote_id=quote.quote_id, reference=reference)
    second = connector.pay(quote_id=quote.quote_id, reference=reference)

    assert second == first
    assert paid(connector_name, reference) == 1
    assert connector.balance() == balance - Money(quote.total_minor, quote.currency)


def test_concurrent_payments_with_the_same_reference_pay_once(
    connector_settings: ConnectorSettings, connector_name: str
) -> None:
    connectors = [get_connector_class(connector_settings.connector)(connector_settings) for _ in range(4)]
    biller = biller_of(connectors[0], BillerKind.BILL)
    quote = quote_for(connectors[0], biller, biller.reference_example)
    reference = new_id("txn")
    results: list[Any] = []
    start = threading.Barrier(len(connectors))

    def pay(connector: BillPaymentProvider) -> None:
        start.wait()
        try:
            results.append(connector.pay(quote_id=quote.quote_id, reference=reference))
        except ProviderOutcomeUnknown as exc:  # "still being processed" is allowed, a second payment is not
            results.append(exc)

    threads = [threading.Thread(target=pay, args=(connector,)) for connector in connectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    answers = [result for result in results if not isinstance(result, ProviderOutcomeUnknown)]
    assert len(results) == 4 and answers
    assert all(answer == answers[0] and answer.status is PaymentStatus.SUCCEEDED for answer in answers)
    assert paid(connector_name, reference) == 1


def test_references_with_every_allowed_character_pay_and_are_found(
    connector: BillPaymentProvider, connector_name: str
) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.AIRTIME)
    reference = f"bill-pay_2026.09:{secrets.token_hex(4)}"

    result = connector.pay(
        quote_id=quote_for(connector, biller, biller.reference_example).quote_id, reference=reference
    )

    assert connector.payment_status(reference) == result
    assert paid(connector_name, reference) == 1


def test_the_same_reference_for_another_quote_is_refused(connector: BillPaymentProvider, connector_name: str) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.AIRTIME)
    reference = new_id("txn")
    connector.pay(quote_id=quote_for(connector, biller, biller.reference_example).quote_id, reference=reference)
    other = quote_for(connector, biller, biller.reference_example)

    with pytest.raises(ProviderRejected) as refused:
        connector.pay(quote_id=other.quote_id, reference=reference)

    assert refused.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert paid(connector_name, reference) == 1


# --- business rules ---------------------------------------------------------------------------------


def test_a_paid_bill_cannot_be_quoted_or_paid_again(connector: BillPaymentProvider, connector_name: str) -> None:
    biller = biller_of(connector, BillerKind.BILL)
    first_quote = quote_for(connector, biller, biller.reference_example)
    second_quote = quote_for(connector, biller, biller.reference_example)  # the same bill, quoted twice
    assert second_quote.bill_id == first_quote.bill_id
    connector.pay(quote_id=first_quote.quote_id, reference=new_id("txn"))
    late = new_id("txn")

    with pytest.raises(ProviderRejected) as on_pay:
        connector.pay(quote_id=second_quote.quote_id, reference=late)
    with pytest.raises(ProviderRejected) as on_quote:
        connector.quote(
            biller_code=biller.code, customer_reference=biller.reference_example, bill_id=first_quote.bill_id or ""
        )

    assert on_pay.value.code is ErrorCode.BILL_ALREADY_PAID
    assert on_quote.value.code is ErrorCode.BILL_ALREADY_PAID
    assert paid(connector_name, late) == 0
    with pytest.raises(PaymentNotFound):
        connector.payment_status(late)


def test_a_quote_pays_once(connector: BillPaymentProvider, connector_name: str) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, BillerCategory.TV)
    quote = quote_for(connector, biller, biller.reference_example)
    connector.pay(quote_id=quote.quote_id, reference=new_id("txn"))
    second = new_id("txn")

    with pytest.raises(ProviderRejected) as refused:
        connector.pay(quote_id=quote.quote_id, reference=second)

    assert refused.value.code is ErrorCode.QUOTE_ALREADY_USED
    assert paid(connector_name, second) == 0


def test_an_expired_quote_is_refused_and_pays_nothing(build: Any, connector_name: str) -> None:
    connector = build(quote_ttl_seconds=0)
    biller = biller_of(connector, BillerKind.BILL)
    quote = quote_for(connector, biller, biller.reference_example)
    reference = new_id("txn")

    with pytest.raises(ProviderRejected) as refused:
        connector.pay(quote_id=quote.quote_id, reference=reference)

    assert refused.value.code is ErrorCode.QUOTE_EXPIRED
    assert paid(connector_name, reference) == 0
    with pytest.raises(PaymentNotFound):
        connector.payment_status(reference)


@pytest.mark.parametrize("category", [BillerCategory.AIRTIME, BillerCategory.ELECTRICITY, BillerCategory.TV])
def test_amounts_outside_the_billers_range_are_refused(
    connector: BillPaymentProvider, category: BillerCategory
) -> None:
    biller = biller_of(connector, BillerKind.PREPAID, category)
    for minor in (biller.min_amount_minor - 1, biller.max_amount_minor + 1):
        with pytest.raises(ProviderRejected) as refused:
            connector.quote(
                biller_code=biller.code, customer_reference=biller.reference_example, amount=Money(minor, "XOF")
            )
        assert refused.value.code is ErrorCode.AMOUNT_OUT_OF_RANGE, (biller.code, minor)


def test_an_amount_that_is_no_offer_is_refused(connector: BillPaymentProvider) -> None:
    biller = next(biller for biller in connector.list_billers() if biller.offers)
    with pytest.raises(ProviderRejected) as refused:
        connector.quote(
            biller_code=biller.code,
            customer_reference=biller.reference_example,
            amount=Money(biller.offers[0].amount_minor + 1, biller.currency),
        )
    assert refused.value.code is ErrorCode.AMOUNT_OUT_OF_RANGE


def test_unknown_billers_and_malformed_references_are_refused(connector: BillPaymentProvider) -> None:
    biller = biller_of(connector, BillerKind.BILL)
    with pytest.raises(ProviderRejected) as unknown:
        connector.lookup(biller_code="NO_SUCH_BILLER", customer_reference="123")
    with pytest.raises(ProviderRejected) as malformed:
        connector.lookup(biller_code=biller.code, customer_reference=biller.reference_example + "x")
    assert unknown.value.code is ErrorCode.UNKNOWN_BILLER
    assert malformed.value.code is ErrorCode.INVALID_CUSTOMER_REFERENCE


def test_an_unavailable_biller_is_retryable_and_listed_as_such(build: Any) -> None:
    probe = build()
    biller = biller_of(probe, BillerKind.BILL)
    connector = build(unavailable_billers=(biller.code,))

    listed = {item.code: item for item in connector.list_billers()}
    with pytest.raises(ProviderUnavailable) as down:
        connector.lookup(biller_code=biller.code, customer_reference=biller.reference_example)

    assert listed[biller.code].is_available is False
    assert down.value.code is ErrorCode.BILLER_UNAVAILABLE and down.value.retryable


def test_wrong_credentials_are_refused(connector_settings: ConnectorSettings) -> None:
    credentials = {**connector_settings.credentials, "api_secret": "not-the-secret"}
    settings = replace(connector_settings, credentials=credentials)
    connector = get_connector_class(settings.connector)(settings)
    with pytest.raises(ProviderRejected) as refused:
        connector.balance()
    assert refused.value.code is ErrorCode.PROVIDER_NOT_CONFIGURED and not refused.value.retryable
