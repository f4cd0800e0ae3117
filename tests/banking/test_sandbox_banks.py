"""The simulated banks on their own: account markers, request validation, unsafe XML refused."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from sandbox.banks.accounts import core_account_register, partner_account_register
from sandbox.banks.outcomes import decide
from sandbox.models import SimEffect, SimObject
from sandbox.services import Outcome
from tests.banking.builders import waemu_iban, waemu_rib

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("account_number", "outcome", "reason_code"),
    [
        ("000100001234", Outcome.SUCCESS, None),
        ("000100000001", Outcome.REJECTED, "AC01"),
        ("000100000004", Outcome.REJECTED, "AC04"),
        ("000100000006", Outcome.REJECTED, "AC06"),
        ("000100009901", Outcome.REJECTED, "AC06"),
        ("000100009902", Outcome.TIMEOUT_THEN_SUCCESS, None),
        ("000100009903", Outcome.FLAKY_5XX_ONCE, None),
        ("000100009904", Outcome.INSUFFICIENT_FLOAT, "AM04"),
        ("000100009905", Outcome.LATE_DUPLICATE_CALLBACK, None),
    ],
)
def test_outcomes_follow_the_account_number_inside_iban_and_rib(
    account_number: str, outcome: Outcome, reason_code: str | None
) -> None:
    for account in (waemu_iban(account_number), waemu_rib(account_number)):
        decision = decide(account)
        assert (decision.account_number, decision.outcome, decision.reason_code) == (
            account_number,
            outcome,
            reason_code,
        )


def test_an_unreadable_account_is_unknown_to_the_bank() -> None:
    assert decide("SN08SN0100152000010000123461").reason_code == "AC01"  # MOD-97 fails
    assert decide("not an account").reason_code == "AC01"


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"reference": "r1", "account": "x", "amount": "100", "currency": "XOF"}, 400, "invalid_request"),
        (
            {"reference": "r1", "account": "x", "amount": "100.5", "currency": "XOF", "beneficiary_name": "A"},
            400,
            "invalid_amount",
        ),
        (
            {"reference": "r1", "account": "x", "amount": "100", "currency": "EUR", "beneficiary_name": "A"},
            400,
            "unsupported_currency",
        ),
        (
            {"reference": "r 1", "account": "x", "amount": "100", "currency": "XOF", "beneficiary_name": "A"},
            400,
            "invalid_request",
        ),
    ],
)
def test_core_refuses_malformed_requests(client: Client, payload: dict[str, str], status: int, error: str) -> None:
    account = core_account_register()
    response = client.post(
        "/sandbox/banks/core/v1/credits",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Bearer {account.api_key}"},
    )
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert SimObject.objects.filter(provider="core_banking", kind="credit").count() == 0


def test_core_refuses_unknown_keys(client: Client) -> None:
    response = client.get("/sandbox/banks/core/v1/credits/r1", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_partner_bank_refuses_xml_with_a_doctype_and_moves_nothing(client: Client) -> None:
    account = partner_account_register(callback_url="")
    body = (
        b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>'
        b"<GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"
    )
    response = client.post(
        "/sandbox/banks/partner/v1/payments",
        data=body,
        content_type="application/xml",
        headers={"Authorization": f"Bearer {account.api_key}"},
    )
    assert response.status_code == 400
    assert b"<GrpSts>RJCT</GrpSts>" in response.content and b"<Cd>FF01</Cd>" in response.content
    assert b"root:" not in response.content
    assert SimEffect.objects.filter(provider="partner_bank").count() == 0


def test_partner_bank_refuses_a_message_that_is_not_a_pacs008(client: Client) -> None:
    account = partner_account_register(callback_url="")
    response = client.post(
        "/sandbox/banks/partner/v1/payments",
        data=b"<Document/>",
        content_type="application/xml",
        headers={"Authorization": f"Bearer {account.api_key}"},
    )
    assert response.status_code == 400
    assert b"expected a pacs.008.001.08 Document" in response.content
