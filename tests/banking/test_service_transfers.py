"""Issue 6, transfers out and the demo seeder, at the service/task level (real code, sandbox over
HTTP): a lost first attempt is resolved by a status query and re-sent under the same reference,
never paid twice; the seeder is idempotent."""

from __future__ import annotations

import time

import pytest

from banking.demo import seed_banking
from banking.models import BankTransfer
from banking.tasks import poll_unresolved, send_transfer
from ledger.models import Account, Hold, Transaction
from ledger.selectors import ledger_check
from partners.demo import DemoContext
from partners.models import ProviderConnection
from sandbox.services import effects_count
from tests.banking.test_api_batches import FUNDED, Bank, bank_fixture  # noqa: F401 - the `bank` fixture
from tests.banking.test_api_transfers import transfer_body

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_5xx_on_sending_is_unknown_then_resent_under_the_same_reference_and_settled_once(bank: Bank) -> None:
    status, _, answer = bank.client.post(
        "/api/v1/banking/transfers", json=transfer_body("000700009903"), idempotency_key="t-9903"
    )
    assert status == 202, answer
    txn = Transaction.objects.get(public_id=answer["id"])
    send_transfer(txn.pk)
    txn.refresh_from_db()
    assert txn.status == "unknown"  # a 5xx to a money-moving call: never read as a failure
    assert effects_count(provider="partner_bank", reference=txn.public_id) == 0

    time.sleep(2.1)
    poll_unresolved()  # NOT_FOUND at the bank: sent again, same reference; accepted
    assert BankTransfer.objects.get(transaction=txn).is_submitted
    deadline = time.monotonic() + 10  # the next query is due after the backoff (4 s)
    while Transaction.objects.get(pk=txn.pk).status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.5)
        poll_unresolved()

    txn.refresh_from_db()
    assert txn.status == "succeeded"
    assert effects_count(provider="partner_bank", reference=txn.public_id, effect="interbank_transfer") == 1
    assert Hold.objects.get(transaction=txn).status == "captured"
    account = Account.objects.get(partner=bank.partner, mode="test", currency="XOF")
    assert (account.balance_minor, account.held_minor) == (FUNDED - 250_000, 0)
    assert ledger_check().is_ok


def test_the_demo_seeder_is_idempotent() -> None:
    context = DemoContext(base_url="http://127.0.0.1:8000")
    first = seed_banking(context)
    second = seed_banking(context)

    assert first == second
    assert first["callback_url"] == "http://127.0.0.1:8000/callbacks/partner-bank"
    rows = ProviderConnection.objects.filter(mode="test").order_by("connector")
    assert [(c.partner.code, c.connector, c.base_url) for c in rows] == [
        ("core-banking", "core_banking", "http://127.0.0.1:8000/sandbox/banks/core/"),
        ("partner-bank", "partner_bank", "http://127.0.0.1:8000/sandbox/banks/partner/"),
    ]
