"""Routing between SICA-UEMOA and STAR-UEMOA, and the orders the connectors accept."""

from __future__ import annotations

import pytest

from banking.iban import AccountNumberError
from banking.providers.base import (
    CreditOrder,
    Settlement,
    TransferOrder,
    TransferState,
    error_code_for_reason,
    settlement_for,
)
from core.errors import ErrorCode
from core.money import Money


@pytest.mark.parametrize(
    ("amount_minor", "settlement"),
    [
        (1, Settlement.CLEARING),
        (49_999_999, Settlement.CLEARING),
        (50_000_000, Settlement.CLEARING),  # at the boundary: still clearing
        (50_000_001, Settlement.RTGS),
        (2_000_000_000, Settlement.RTGS),
    ],
)
def test_above_fifty_million_xof_goes_rtgs(amount_minor: int, settlement: Settlement) -> None:
    assert settlement_for(Money(amount_minor, "XOF")) is settlement


def test_routing_is_for_positive_xof_amounts_only() -> None:
    with pytest.raises(ValueError, match="in XOF"):
        settlement_for(Money(100, "EUR"))
    with pytest.raises(ValueError, match="positive"):
        settlement_for(Money(0, "XOF"))


def order(**changes: object) -> TransferOrder:
    values: dict[str, object] = {
        "reference": "txn_01JD3W0000000000000000001",
        "end_to_end_id": "E2E-OUT-0001",
        "amount": Money(150_000, "XOF"),
        "debtor_name": "ACME SARL",
        "debtor_account": "SN08SN0100152000048500003035",
        "debtor_agent_bic": "CBAOSNDA",
        "beneficiary_name": "Awa Sow",
        "iban": "SN08SN0480101020000006789028",
        "bic": "ECOCSNDA",
        "settlement": Settlement.CLEARING,
    }
    values.update(changes)
    return TransferOrder(**values)  # type: ignore[arg-type]


def test_a_valid_transfer_order() -> None:
    assert order().settlement is Settlement.CLEARING
    assert order(amount=Money(10_000, "XOF"), settlement=Settlement.RTGS).settlement is Settlement.RTGS


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"amount": Money(50_000_001, "XOF")}, ValueError, "SICA-UEMOA clears at most 50,000,000 XOF"),
        ({"amount": Money(100, "EUR")}, ValueError, "positive XOF amount"),
        ({"reference": "txn 1"}, ValueError, "a reference has 1 to 35"),
        ({"reference": "x" * 36}, ValueError, "a reference has 1 to 35"),
        ({"end_to_end_id": "E" * 36}, ValueError, "end_to_end_id must have 1 to 35"),
        ({"bic": "ECOC"}, ValueError, "bic is not a BIC"),
        ({"iban": "SN08SN0480101020000006789029"}, AccountNumberError, "The IBAN check digits are wrong"),
        ({"remittance_information": "r" * 141}, ValueError, "at most 140"),
    ],
)
def test_malformed_transfer_orders_cannot_be_built(changes: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        order(**changes)


def test_credit_orders_validate_their_account() -> None:
    credit = CreditOrder("txn_1", "SN010 01520 000485000030 35", Money(1000, "XOF"), "Awa Sow")
    assert credit.account == "SN010 01520 000485000030 35"
    with pytest.raises(AccountNumberError):
        CreditOrder("txn_1", "SN0100152000048500003036", Money(1000, "XOF"), "Awa Sow")


def test_reason_codes_map_to_gateway_error_codes() -> None:
    assert error_code_for_reason("AM04") is ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    assert error_code_for_reason("AC04") is ErrorCode.PROVIDER_REJECTED
    assert TransferState.SETTLED.is_final and not TransferState.ACCEPTED.is_final
