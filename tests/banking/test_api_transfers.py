"""Issue 6, transfers out: POST /api/v1/banking/transfers over real HTTP, sent to the simulated
partner bank by the real task function, finished by its signed pacs.002 callback (delivered by
the sandbox's own delivery task to our /callbacks/partner-bank) or by status polling."""

from __future__ import annotations

import time
from typing import Any

import pytest

from banking.models import BankCallback, BankTransfer
from banking.providers.partner_bank import sign_status_message
from banking.tasks import callback_apply_status, poll_unresolved, send_transfer
from ledger.models import Account, Hold, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from sandbox.models import SimCallback
from sandbox.services import effects_count
from sandbox.tasks import callback_deliver
from tests.banking.builders import waemu_iban
from tests.banking.test_api_batches import FUNDED, Bank, bank_fixture  # noqa: F401 - the `bank` fixture

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/api/v1/banking/transfers"


def transfer_body(account_number: str, amount: str = "250000", **overrides: str) -> dict[str, str]:
    return {
        "beneficiary_name": "Grands Moulins de Dakar",
        "iban": waemu_iban(account_number, bank="SN048", branch="01010"),
        "bic": "ECOCSNDA",
        "amount": amount,
        "currency": "XOF",
        "remittance_information": "Facture 2026-11-007",
        "end_to_end_id": "E2E-OUT-" + account_number[-4:],
        **overrides,
    }


def account_of(partner: Any) -> tuple[int, int]:
    account = Account.objects.get(partner=partner, mode="test", currency="XOF")
    return account.balance_minor, account.held_minor


def settled(reference: str) -> int:
    return effects_count(provider="partner_bank", reference=reference, effect="interbank_transfer")


def send(public_id: str) -> Transaction:
    txn = Transaction.objects.get(public_id=public_id)
    send_transfer(txn.pk)
    txn.refresh_from_db()
    return txn


def deliver_callbacks() -> None:
    """What the sandbox's worker would do: POST each due pacs.002 to our callback URL."""
    time.sleep(0.4)  # the bank settles 0.3 s after accepting
    for callback in SimCallback.objects.filter(provider="partner_bank", status="pending").order_by("pk"):
        callback_deliver(callback.pk)


def apply_callbacks() -> None:
    for callback in BankCallback.objects.filter(status="queued").order_by("pk"):
        callback_apply_status(callback.pk)


def test_a_transfer_goes_pending_to_succeeded_by_callback_and_the_hold_is_captured(bank: Bank) -> None:
    status, _, answer = bank.client.post(PATH, json=transfer_body("000700001000"), idempotency_key="t-ok")

    assert status == 202, answer
    assert (answer["status"], answer["settlement"], answer["amount"]) == ("pending", "CLEARING", "250000")
    assert answer["transaction"]["kind"] == "bank_transfer_out" and answer["id"].startswith("txn_")
    assert account_of(bank.partner) == (FUNDED, 250_000)
    txn = send(answer["id"])
    assert txn.status == "processing"  # accepted (ACSP): settlement in process

    deliver_callbacks()
    callback = BankCallback.objects.get()
    assert (callback.status, callback.mode) == ("queued", "test") and callback.event_id
    apply_callbacks()

    _, _, detail = bank.client.get(f"{PATH}/{answer['id']}")
    assert detail["status"] == "succeeded" and detail["reason_code"] is None
    assert account_of(bank.partner) == (FUNDED - 250_000, 0)
    assert Hold.objects.get(transaction__public_id=answer["id"]).status == "captured"
    assert settled(answer["id"]) == 1
    assert BankCallback.objects.get().status == "applied"
    events = TransactionEvent.objects.filter(transaction__public_id=answer["id"]).order_by("pk")
    assert [(e.to_status, e.cause) for e in events] == [
        ("pending", "api"), ("processing", "worker"), ("succeeded", "callback"),
    ]  # fmt: skip
    assert ledger_check().is_ok


def test_a_rejected_transfer_fails_by_polling_with_its_reason_and_the_hold_is_released(bank: Bank) -> None:
    status, _, answer = bank.client.post(PATH, json=transfer_body("000700000004"), idempotency_key="t-ac04")
    assert status == 202, answer
    assert send(answer["id"]).status == "processing"

    time.sleep(2.1)  # the first status query is due 2 s after the bank's acceptance
    assert poll_unresolved() == {"credits": 0, "transfers": 1}

    _, _, detail = bank.client.get(f"{PATH}/{answer['id']}")
    assert (detail["status"], detail["reason_code"]) == ("failed", "AC04")
    assert detail["transaction"]["failure"]["code"] == "provider_rejected"
    assert account_of(bank.partner) == (FUNDED, 0)
    assert Hold.objects.get(transaction__public_id=answer["id"]).status == "released"
    assert settled(answer["id"]) == 0
    # the bank's callback arrives afterwards: stored, applied, and the final state does not move
    deliver_callbacks()
    apply_callbacks()
    assert Transaction.objects.get(public_id=answer["id"]).status == "failed"
    assert ledger_check().is_ok


@pytest.mark.parametrize(("amount", "settlement"), [("50000000", "CLEARING"), ("50000001", "RTGS")])
def test_routing_follows_the_amount(bank: Bank, amount: str, settlement: str) -> None:
    status, _, answer = bank.client.post(
        PATH, json=transfer_body("000700002000", amount=amount), idempotency_key=f"t-{amount}"
    )
    assert status == 202, answer
    assert answer["settlement"] == settlement
    assert BankTransfer.objects.get(transaction__public_id=answer["id"]).settlement == settlement
    assert send(answer["id"]).status == "processing"  # the bank took it on that system (SICA ≤ 50 M)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"iban": "SN08SN0480101020000006789029"}, "iban"),  # checksum broken
        ({"bic": "ECO"}, "bic"),
        ({"amount": "1500.5"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"end_to_end_id": ""}, "end_to_end_id"),
    ],
)
def test_an_invalid_transfer_is_refused_and_holds_nothing(bank: Bank, overrides: dict[str, str], field: str) -> None:
    status, _, answer = bank.client.post(
        PATH, json=transfer_body("000700003000", **overrides), idempotency_key=f"t-bad-{field}"
    )
    assert (status, answer["code"]) == (400, "validation_error"), answer
    assert field in [error["field"] for error in answer["errors"]]
    assert Transaction.objects.count() == 0 and BankTransfer.objects.count() == 0
    assert not Account.objects.filter(partner=bank.partner, held_minor__gt=0).exists()


def test_over_the_balance_is_insufficient_funds_and_nothing_is_created(bank: Bank) -> None:
    status, _, answer = bank.client.post(
        PATH, json=transfer_body("000700004000", amount="1000000001"), idempotency_key="t-big"
    )
    assert (status, answer["code"]) == (422, "insufficient_funds"), answer
    assert BankTransfer.objects.count() == 0 and Transaction.objects.count() == 0


def test_callbacks_with_a_bad_signature_are_kept_and_refused_and_repeats_are_ignored(bank: Bank) -> None:
    _, _, answer = bank.client.post(PATH, json=transfer_body("000700005000"), idempotency_key="t-cb")
    send(answer["id"])
    time.sleep(0.4)
    pending = SimCallback.objects.get(provider="partner_bank", status="pending")
    url = bank.live_url + "/callbacks/partner-bank"
    import urllib.error
    import urllib.request

    def post(body: bytes, signature: str) -> int:
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/xml", "X-Bank-Signature": signature}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    body = bytes(pending.body)
    assert post(body, sign_status_message("not-the-secret", body, int(time.time()))) == 401
    assert BankCallback.objects.get().status == "invalid_signature"
    assert Transaction.objects.get(public_id=answer["id"]).status == "processing"

    callback_deliver(pending.pk)  # the genuine one
    callback_deliver(pending.pk)  # delivered already: the sandbox does not send it again
    secret = pending.headers["X-Bank-Signature"]
    assert post(body, secret) == 200  # the same message again (a bank's retry): stored, duplicate
    statuses = sorted(BankCallback.objects.values_list("status", flat=True))
    assert statuses == ["duplicate", "invalid_signature", "queued"]
    apply_callbacks()
    apply_callbacks()
    assert Transaction.objects.get(public_id=answer["id"]).status == "succeeded"
    assert settled(answer["id"]) == 1 and account_of(bank.partner) == (FUNDED - 250_000, 0)
