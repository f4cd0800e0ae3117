"""The partner bank's status message left queued (its worker lost) is applied from the console's
"apply again": through the banking rail's own service, audited, and the money moves once."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from backoffice.models import AuditRecord
from banking.models import BankCallback
from ledger.models import Hold, LedgerEntry, Transaction
from tests.admin.conftest import client_for
from tests.banking.test_api_batches import Bank, bank_fixture  # noqa: F401 - the `bank` fixture
from tests.banking.test_api_transfers import PATH, deliver_callbacks, send, transfer_body

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_queued_status_message_is_applied_again_once(bank: Bank, operator: Any) -> None:
    status, _, answer = bank.client.post(PATH, json=transfer_body("000700002000"), idempotency_key="t-again")
    assert status == 202, answer
    assert send(answer["id"]).status == "processing"
    deliver_callbacks()  # the partner bank's signed pacs.002 is received and queued; no worker applies it
    callback = BankCallback.objects.get(status="queued")
    transaction = Transaction.objects.get(public_id=answer["id"])
    assert (transaction.status, Hold.objects.get(transaction=transaction).status) == ("processing", "placed")

    client = client_for(operator)
    changelist = reverse("admin:banking_bankcallback_changelist")
    client.post(changelist, {"action": "apply_again", "_selected_action": [callback.pk]})
    callback.refresh_from_db()
    transaction.refresh_from_db()
    assert (callback.status, transaction.status) == ("applied", "succeeded")
    assert Hold.objects.get(transaction=transaction).status == "captured"
    moved = LedgerEntry.objects.filter(transaction=transaction).count()
    assert moved > 0
    audit = AuditRecord.objects.get(action="callback.apply_again", target=f"banking.bankcallback:{callback.pk}")
    assert audit.actor_username == operator.username and audit.data == {"result": "applied"}

    client.post(changelist, {"action": "apply_again", "_selected_action": [callback.pk]})  # applied: left alone
    assert LedgerEntry.objects.filter(transaction=transaction).count() == moved
    transaction.refresh_from_db()
    assert transaction.status == "succeeded"
