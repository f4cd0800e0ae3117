"""The sandbox keeps the catalogue's promise: every biller's ``reference_example`` can be paid,
again and again (issue 16), and docs/sandbox.md shows the catalogue's examples.

Over real HTTP: the partner signs its requests, the gateway is live_server, the sandbox Niirpay
is served by it; the payment is executed by the real service, in-process.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from payments.models import BillPayment
from payments.services import bill_payment_execute
from sandbox.niirpay.catalog import BILLERS
from tests.payments.test_api_bills import Bills, bills_setup

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 3


def _amount_for(biller: dict[str, Any]) -> str:
    """A valid amount of a prepaid biller: its first offer, else its minimum."""
    return biller["offers"][0]["amount"] if biller["offers"] else biller["min_amount"]


def _pay_once(bills: Bills, biller: dict[str, Any]) -> dict[str, Any]:
    example = biller["reference_example"]
    lookup = bills.lookup(biller["code"], example)
    request: dict[str, Any] = {"biller": biller["code"], "customer_reference": example}
    if biller["kind"] == "bill":
        assert lookup["bills"], f"{biller['code']} {example}: no open bill to pay"
        request["bill_id"] = lookup["bills"][0]["bill_id"]
    else:
        request["amount"] = _amount_for(biller)
    status, _, quote = bills.post("quotes", request)
    assert status == 201, quote
    status, _, accepted = bills.pay(quote["id"])
    assert status == 202, accepted
    bill_payment_execute(bill_payment_id=BillPayment.objects.get(public_id=accepted["id"]).pk)
    return bills.get_payment(accepted["id"])


def test_every_reference_example_pays_three_times_in_a_row(live_server: Any) -> None:
    bills = bills_setup(live_server)
    status, _, catalogue = bills.client.get("/api/v1/bills/billers")
    assert status == 200
    billers = catalogue["data"]
    assert {biller["code"] for biller in billers} == {biller.code for biller in BILLERS}

    for biller in billers:
        paid_bills = []
        for _ in range(ROUNDS):
            payment = _pay_once(bills, biller)
            assert payment["status"] == "succeeded" and payment["receipt"], payment
            paid_bills.append(payment.get("bill_id"))
        if biller["kind"] == "bill":
            assert len(set(paid_bills)) == ROUNDS, paid_bills  # a new bill each time, never one paid twice


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"amount": "5000"}, "send bill_id"),  # a bill biller is paid in full, by bill_id
        ({}, "bill_id of an open bill"),  # neither: what is missing
        ({"amount": "5000", "bill_id": "SENELEC-1"}, "not both"),
    ],
)
def test_a_wrong_quote_request_says_what_is_wrong(live_server: Any, extra: dict[str, Any], says: str) -> None:
    bills = bills_setup(live_server)
    status, _, body = bills.post("quotes", {"biller": "SENELEC", "customer_reference": "012345678912", **extra})
    assert status == 400, body
    text = " ".join([body["detail"], *(error["message"] for error in body.get("errors") or [])])
    assert says in text and "exactly one" not in text, body


def test_docs_sandbox_shows_the_catalogue_examples() -> None:
    text = (ROOT / "docs" / "sandbox.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `SENELEC`"))
    shown = dict(re.findall(r"`([A-Z_]+)` `([0-9]+)`", row))
    assert shown == {biller.code: biller.reference_example for biller in BILLERS}
