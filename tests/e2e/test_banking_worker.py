"""Issue 6 across real processes: a Celery worker subprocess (payments, bulk and callbacks
queues) credits a received pain.001 in chunks and finishes a transfer out from the partner
bank's signed callback, which the sandbox delivers from the same worker over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from banking.models import BankCallback, TransferBatch
from ledger.models import Account, Hold, Transaction
from ledger.selectors import ledger_check
from sandbox.services import effects_count
from tests.banking.builders import waemu_iban
from tests.banking.test_api_batches import FUNDED, Bank, bank_fixture, pain001, report_statuses  # noqa: F401
from tests.processes import celery_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_credits_a_two_chunk_batch_and_settles_a_transfer_by_callback(bank: Bank, tmp_path: Path) -> None:
    payroll = [(f"E2E-W-{i:04d}", waemu_iban(f"0008{1000 + i:08d}"), 1_000) for i in range(1, 246)]  # succeed
    refused = [("E2E-W-AC04", waemu_iban("000900000004"), 5_000), ("E2E-W-AM04", waemu_iban("000900009904"), 7_000)]
    body = pain001("03", [("PAYROLL", payroll), ("OTHERS", refused)], msg_id="SAHEL-WORKER-1")
    transfer = {
        "beneficiary_name": "Grands Moulins de Dakar",
        "iban": waemu_iban("000700001000", bank="SN048", branch="01010"),
        "bic": "ECOCSNDA",
        "amount": "60000000",
        "currency": "XOF",
        "remittance_information": "Commande 2026-11-007",
        "end_to_end_id": "E2E-OUT-WORKER",
    }
    with celery_worker(tmp_path / "worker.log", queues="payments,bulk,callbacks", concurrency=2):
        status, _, batch = bank.client.post(
            "/api/v1/banking/transfer-batches", data=body, headers={"Content-Type": "application/xml"},
            idempotency_key="w-batch",
        )  # fmt: skip
        assert status == 202, batch
        status, _, sent = bank.client.post("/api/v1/banking/transfers", json=transfer, idempotency_key="w-out")
        assert (status, sent["settlement"]) == (202, "RTGS"), sent

        wait_until(
            lambda: TransferBatch.objects.get(public_id=batch["id"]).status == "completed",
            timeout=60,
            message="the batch was not credited",
        )
        wait_until(
            lambda: Transaction.objects.get(public_id=sent["id"]).status == "succeeded",
            timeout=30,
            message="the transfer was not settled by the callback",
        )

    _, _, detail = bank.client.get(f"/api/v1/banking/transfer-batches/{batch['id']}")
    assert detail["progress"] == {
        "total": 247, "pending": 0, "succeeded": 245, "failed": 2, "credited": "245000", "rejected": "12000",
    }  # fmt: skip
    _, _, xml = bank.client.get(f"/api/v1/banking/transfer-batches/{batch['id']}/status-report")
    _, statuses = report_statuses(xml, "03")
    assert statuses["E2E-W-AC04"] == ("RJCT", "AC04") and statuses["E2E-W-AM04"] == ("RJCT", "AM04")
    assert sum(1 for s, _ in statuses.values() if s == "ACSC") == 245
    credits = Transaction.objects.filter(kind="bank_transfer_in", status="succeeded").values_list(
        "public_id", flat=True
    )
    assert sum(effects_count(provider="core_banking", reference=ref, effect="credit") for ref in credits) == 245

    assert BankCallback.objects.get().status == "applied"
    assert Hold.objects.get(transaction__public_id=sent["id"]).status == "captured"
    # the sending bank pays for the credits it instructed (issue 6): 245 captured, 2 released
    batch_holds = Hold.objects.filter(transaction__kind="bank_transfer_in")
    assert {h.transaction.public_id: h.status for h in batch_holds.select_related("transaction")} == {
        **dict.fromkeys(credits, "captured"),
        **{
            Transaction.objects.get(client_reference=e2e, kind="bank_transfer_in").public_id: "released"
            for e2e in ("E2E-W-AC04", "E2E-W-AM04")
        },
    }
    account = Account.objects.get(partner=bank.partner, mode="test", currency="XOF")
    assert (account.balance_minor, account.held_minor) == (FUNDED - 245_000 - 60_000_000, 0)
    assert effects_count(provider="partner_bank", reference=sent["id"], effect="interbank_transfer") == 1
    assert ledger_check().is_ok
