"""Core-banking conformance: every CoreBankingConnector against its simulator, over real HTTP.

Outcomes follow the 12-digit account number inside the IBAN/RIB (sandbox/banks/outcomes.py:
``…0001`` AC01, ``…0004`` AC04, ``…0006`` AC06, and the docs/architecture.md §6 endings 9901 to 9905). The
simulator records one ``SimEffect(effect="credit")`` per posted credit, under the connector's
name and our reference, so each test counts exactly what was credited — and that a refused,
lost or repeated credit credited nothing more.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from banking.providers.base import CoreBankingConnector, CreditOrder, CreditResult, CreditState
from core.errors import ProviderOutcomeUnknown, ProviderRejected
from core.ids import new_id
from core.money import Money
from partners.registry import ConnectorSettings, get_connector_class
from sandbox.banks.accounts import core_account_register, core_connector_credentials
from sandbox.services import effects_count
from tests.banking.builders import waemu_iban, waemu_rib
from tests.conformance.conftest import CONFORMANCE_TIMEOUTS, rail_connectors

pytestmark = pytest.mark.django_db(transaction=True)


def setup_core_banking(sandbox_url: str) -> ConnectorSettings:
    account = core_account_register()
    return ConnectorSettings(
        connection_id="pcn_conformance_core_banking",
        connector="core_banking",
        provider_code="core-banking",
        mode="test",
        base_url=sandbox_url + "banks/core/",
        credentials=core_connector_credentials(account),
        timeouts=CONFORMANCE_TIMEOUTS,
        limits={},
    )


CONNECTORS = rail_connectors({"core_banking": setup_core_banking})
AMOUNT = Money(125_000, "XOF")


def credit_order(account_number: str, *, amount: Money = AMOUNT, reference: str | None = None) -> CreditOrder:
    return CreditOrder(
        reference=reference or new_id("txn"),
        account=waemu_iban(account_number),
        amount=amount,
        beneficiary_name="Awa Sow",
        remittance_information="Salaire 10/2026",
    )


def credited(connector_name: str, reference: str) -> int:
    return effects_count(provider=connector_name, reference=reference, effect="credit")


def test_a_credit_is_posted_once_and_found_by_status(connector: CoreBankingConnector, connector_name: str) -> None:
    order = credit_order("000100001234")
    result = connector.credit_account(order)
    assert result.status is CreditState.POSTED
    assert result.reference == order.reference
    assert result.reason_code is None and result.posting_reference and not result.is_replay
    assert credited(connector_name, order.reference) == 1
    assert connector.credit_status(order.reference) == result


def test_a_rib_is_credited_like_an_iban(connector: CoreBankingConnector, connector_name: str) -> None:
    order = replace(credit_order("000100001234"), account=waemu_rib("000100005678"))
    assert connector.credit_account(order).status is CreditState.POSTED
    assert credited(connector_name, order.reference) == 1


@pytest.mark.parametrize(
    ("account_number", "reason_code"),
    [
        ("000100000001", "AC01"),  # unknown account
        ("000100000004", "AC04"),  # closed
        ("000100000006", "AC06"),  # blocked
        ("000100009901", "AC06"),  # docs/architecture.md §6 9901: rejected (blocked)
        ("000100009904", "AM04"),  # docs/architecture.md §6 9904: insufficient funds
    ],
)
def test_refused_credits_carry_their_reason_and_credit_nothing(
    connector: CoreBankingConnector, connector_name: str, account_number: str, reason_code: str
) -> None:
    order = credit_order(account_number)
    result = connector.credit_account(order)
    assert result == CreditResult(order.reference, CreditState.REJECTED, reason_code=reason_code)
    assert connector.credit_status(order.reference) == result
    assert credited(connector_name, order.reference) == 0


def test_the_same_reference_twice_credits_once(connector: CoreBankingConnector, connector_name: str) -> None:
    order = credit_order("000100001234")
    first = connector.credit_account(order)
    second = connector.credit_account(order)
    assert second == replace(first, is_replay=True)
    assert credited(connector_name, order.reference) == 1


def test_a_reference_reused_for_another_amount_is_refused(connector: CoreBankingConnector, connector_name: str) -> None:
    order = credit_order("000100001234")
    connector.credit_account(order)
    with pytest.raises(ProviderRejected) as refused:
        connector.credit_account(replace(order, amount=Money(999, "XOF")))
    assert refused.value.http_status == 409
    assert credited(connector_name, order.reference) == 1


def test_concurrent_retries_credit_once(connector_settings: ConnectorSettings, connector_name: str) -> None:
    order = credit_order("000100001234")
    results: list[CreditResult] = []

    def attempt() -> None:
        connector = get_connector_class(connector_settings.connector)(connector_settings)
        results.append(connector.credit_account(order))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.posting_reference for r in results} == {results[0].posting_reference}
    assert [r.is_replay for r in results].count(False) == 1
    assert credited(connector_name, order.reference) == 1


def test_9902_the_answer_is_lost_but_the_credit_is_posted_and_found(
    connector: CoreBankingConnector, connector_name: str, settings: Any
) -> None:
    settings.SANDBOX_HANG_SECONDS = 2.0  # past the 1.5 s read timeout
    order = credit_order("000100009902")
    with pytest.raises(ProviderOutcomeUnknown):
        connector.credit_account(order)
    status = connector.credit_status(order.reference)
    assert status.status is CreditState.POSTED and status.posting_reference
    assert credited(connector_name, order.reference) == 1
    retried = connector.credit_account(order)  # a replay: no second hang, no second credit
    assert retried == replace(status, is_replay=True)
    assert credited(connector_name, order.reference) == 1


def test_9903_a_5xx_credits_nothing_and_the_retry_credits_once(
    connector: CoreBankingConnector, connector_name: str
) -> None:
    order = credit_order("000100009903")
    with pytest.raises(ProviderOutcomeUnknown) as lost:
        connector.credit_account(order)
    assert lost.value.http_status == 503
    assert connector.credit_status(order.reference).status is CreditState.NOT_FOUND
    assert credited(connector_name, order.reference) == 0
    result = connector.credit_account(order)
    assert result.status is CreditState.POSTED and not result.is_replay
    assert credited(connector_name, order.reference) == 1


def test_9905_is_posted(connector: CoreBankingConnector, connector_name: str) -> None:
    order = credit_order("000100009905")
    assert connector.credit_account(order).status is CreditState.POSTED
    assert credited(connector_name, order.reference) == 1


def test_an_unknown_reference_is_not_found(connector: CoreBankingConnector) -> None:
    reference = new_id("txn")
    assert connector.credit_status(reference) == CreditResult(reference, CreditState.NOT_FOUND)


def test_wrong_credentials_are_refused_and_credit_nothing(
    connector_settings: ConnectorSettings, connector_name: str
) -> None:
    settings = replace(connector_settings, credentials={"api_key": "not-a-key"})
    connector = get_connector_class(settings.connector)(settings)
    order = credit_order("000100001234")
    with pytest.raises(ProviderRejected) as refused:
        connector.credit_account(order)
    assert refused.value.http_status == 401
    assert credited(connector_name, order.reference) == 0
