"""The rows a batch intake copies (COPY, core/bulk_copy.py): every column of a cash-in batch's
items and of a pain.001's items is what the ORM wrote before (the model's defaults, the values
given), each item pointing at its own transaction, in the order of the batch."""

from __future__ import annotations

import pytest

from banking.demo import banking_sandbox_connect
from banking.models import TransferBatchItem
from banking.services import batch_receive
from core.errors import InsufficientFunds
from ledger.models import Account, Hold, OutboxEvent, Transaction
from ledger.services import account_fund, account_get_or_create_partner_account
from ledger.services.holds import hold_reserve
from mobilemoney.models import CashIn, CashInBatch
from mobilemoney.services.batch_ingest import CHUNK_SIZE, batch_create, validate_items
from partners.models import Partner
from partners.services import partner_create
from tests.banking.builders import pain001_v03
from tests.mobilemoney.api_support import connect_providers

pytestmark = pytest.mark.django_db


def _funded(partner: Partner, amount_minor: int) -> Account:
    account = account_get_or_create_partner_account(partner=partner, mode="test", currency="XOF")
    account_fund(account=account, amount_minor=amount_minor, description="test top-up")
    return account


def _items(count: int) -> list[dict[str, str]]:
    return [
        {"msisdn": f"+22177{n:07d}", "amount": str(100 + n), "currency": "XOF", "client_reference": f"row-{n}",
         **({"recipient_name": "Awa Ndiaye", "reason": "Salaire"} if n % 2 else {})}
        for n in range(count)
    ]  # fmt: skip


@pytest.fixture
def partner(db: None) -> Partner:
    connect_providers("http://127.0.0.1:9")
    return partner_create(name="Rows", mode="test", scopes=["mobile_money.cash_in"]).partner


def test_cash_in_batch_rows_are_complete_and_in_order(partner: Partner) -> None:
    count = CHUNK_SIZE + 3
    _funded(partner, 10**7)
    raw = _items(count)
    batch = batch_create(partner=partner, mode="test", provider="wave", items=validate_items(raw, [""] * count))

    rows = list(CashIn.objects.filter(batch=batch).select_related("transaction", "chunk").order_by("line"))
    assert [c.line for c in rows] == list(range(count))
    for cash_in, sent in zip(rows, raw, strict=True):
        txn = cash_in.transaction
        assert (cash_in.msisdn, cash_in.provider, cash_in.recipient_name, cash_in.reason) == (
            sent["msisdn"], "wave", sent.get("recipient_name", ""), sent.get("reason", ""),
        )  # fmt: skip
        assert (cash_in.provider_reference, cash_in.poll_attempts, cash_in.next_poll_at) == ("", 0, None)
        assert (cash_in.retry_of_id, cash_in.superseded, cash_in.created_at is not None) == (None, False, True)
        assert cash_in.chunk is not None and cash_in.line is not None
        assert cash_in.chunk.number == cash_in.line // CHUNK_SIZE
        assert (txn.client_reference, txn.amount_minor, txn.status) == (sent["client_reference"], int(sent["amount"]),
                                                                       "pending")  # fmt: skip
        assert txn.metadata == {"msisdn": sent["msisdn"], "batch": batch.public_id, "line": cash_in.line}
    assert Hold.objects.filter(transaction__cash_in__batch=batch).count() == count
    assert OutboxEvent.objects.filter(type="transaction.created").count() == count
    assert OutboxEvent.objects.filter(type="cash_in_batch.created", aggregate_id=batch.public_id).count() == 1


def test_a_cash_in_batch_beyond_the_balance_copies_nothing(partner: Partner) -> None:
    account = account_get_or_create_partner_account(partner=partner, mode="test", currency="XOF")  # a sandbox top-up
    hold_reserve(account=account, amount_minor=account.balance_minor - (100 + 101 - 1))  # 200 left available
    with pytest.raises(InsufficientFunds):
        batch_create(partner=partner, mode="test", provider="wave", items=validate_items(_items(2), ["", ""]))
    assert not (CashInBatch.objects.exists() or CashIn.objects.exists() or Transaction.objects.exists())
    assert not OutboxEvent.objects.exists() and not Hold.objects.exists()
    account.refresh_from_db()
    assert account.balance_minor - account.held_minor == 200


def test_pain001_items_are_complete_and_in_order(db: None) -> None:
    banking_sandbox_connect(sandbox_url="http://127.0.0.1:9/sandbox/", callback_url="http://127.0.0.1:9/cb")
    bank = partner_create(name="Bank", mode="test", scopes=["banking.transfers"]).partner
    _funded(bank, 10**7)
    batch = batch_receive(partner=bank, mode="test", body=pain001_v03(5, msg_id="ROWS-5"), content_type="text/xml")

    items = list(TransferBatchItem.objects.filter(batch=batch).select_related("transaction").order_by("position"))
    assert [i.position for i in items] == [1, 2, 3, 4, 5]
    for n, item in enumerate(items, start=1):
        assert (item.pmt_inf_id, item.instr_id, item.end_to_end_id, item.creditor_name) == (
            "PAYROLL", f"I-{n}", f"E2E-{n:08d}", f"Beneficiaire {n}",
        )  # fmt: skip
        assert item.remittance_information == f"Salaire 10/2026 numero {n}"
        assert (item.reason_code, item.posting_reference, item.poll_attempts, item.next_poll_at) == ("", "", 0, None)
        assert (item.transaction.client_reference, item.transaction.kind) == (item.end_to_end_id, "bank_transfer_in")
        assert item.transaction.metadata == {"batch_id": batch.public_id, "pmt_inf_id": "PAYROLL"}
        assert len(item.creditor_account) > 20
