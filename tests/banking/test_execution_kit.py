"""Issue 10, the banking rail on the execution kit, through its real entry points (API over HTTP,
the real tasks, the simulated banks over HTTP; no mocks of our own code):

- the same outcome applied twice (the partner bank's callback and the poller racing) moves money
  once: one capture or one release, one terminal event;
- one bad item never blocks the others: an item the code chokes on is set aside for review,
  logged with its id, skipped from then on, and the other items settle;
- every provider call leaves exactly one completed call record per attempt, linked to its
  transaction; a timeout (9902) leaves ``unknown``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from banking.models import BankCallback, BankTransfer, TransferBatch, TransferBatchItem
from banking.tasks import callback_apply_status, poll_unresolved
from ledger.models import Hold, LedgerEntry, ProviderCall, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from tests.banking.builders import waemu_iban
from tests.banking.test_api_batches import (  # noqa: F401 - the `bank` fixture
    FUNDED,
    XML,
    Bank,
    bank_fixture,
    counts,
    credit_all,
    credited,
    pain001,
)
from tests.banking.test_api_transfers import PATH, account_of, deliver_callbacks, send, settled, transfer_body

pytestmark = pytest.mark.django_db(transaction=True)

BATCHES = "/api/v1/banking/transfer-batches"


def race(*work: Callable[[], Any]) -> list[Any]:
    """Run each callable in its own thread (own DB connection), released together by a barrier."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[Exception] = []

    def run(index: int, function: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def create_transfer(bank: Bank, account_number: str, key: str, **overrides: str) -> Transaction:
    status, _, answer = bank.client.post(PATH, json=transfer_body(account_number, **overrides), idempotency_key=key)
    assert status == 202, answer
    return Transaction.objects.get(public_id=answer["id"])


def make_due(txn: Transaction) -> None:
    """Set-up: the transfer's next status query is due now (instead of sleeping the backoff)."""
    BankTransfer.objects.filter(transaction=txn).update(next_poll_at=timezone.now())


def terminal_events(txn: Transaction) -> list[tuple[str, str]]:
    events = TransactionEvent.objects.filter(transaction=txn, to_status__in=("succeeded", "failed"))
    return list(events.values_list("to_status", "cause"))


# --- (b) the same outcome applied twice moves money once -------------------------------------------


def test_a_settlement_from_the_callback_and_the_poller_at_once_captures_the_hold_once(bank: Bank) -> None:
    txn = create_transfer(bank, "000700001000", "race-ok")
    assert send(txn.public_id).status == "processing"
    deliver_callbacks()  # the bank settled it: its signed pacs.002 is stored and queued
    callback = BankCallback.objects.get(status="queued")
    make_due(txn)

    applied, polled = race(lambda: callback_apply_status(callback.pk), poll_unresolved)

    assert (applied, polled) == ("applied", {"credits": 0, "transfers": 1})
    txn.refresh_from_db()
    assert txn.status == "succeeded"
    assert len(terminal_events(txn)) == 1  # one of the two moved it, the other found it settled
    assert Hold.objects.get(transaction=txn).status == "captured"
    assert LedgerEntry.objects.filter(transaction=txn).count() == 2  # partner -x, partner-bank float +x
    assert account_of(bank.partner) == (FUNDED - 250_000, 0)
    assert settled(txn.public_id) == 1
    assert ledger_check().is_ok


def test_a_rejection_from_the_callback_and_the_poller_at_once_releases_the_hold_once(bank: Bank) -> None:
    txn = create_transfer(bank, "000700000004", "race-ac04")
    assert send(txn.public_id).status == "processing"
    deliver_callbacks()
    callback = BankCallback.objects.get(status="queued")
    make_due(txn)

    race(lambda: callback_apply_status(callback.pk), poll_unresolved)

    txn.refresh_from_db()
    assert (txn.status, txn.failure_code) == ("failed", "provider_rejected")
    assert len(terminal_events(txn)) == 1
    assert Hold.objects.get(transaction=txn).status == "released"
    assert LedgerEntry.objects.filter(transaction=txn).count() == 0
    assert account_of(bank.partner) == (FUNDED, 0)
    assert BankTransfer.objects.get(transaction=txn).reason_code == "AC04"
    assert ledger_check().is_ok


def test_two_chunk_workers_on_the_same_batch_credit_each_item_once(bank: Bank) -> None:
    txs = [(f"E2E-R-{i}", waemu_iban(f"00110000{2000 + i}"), 1_000) for i in range(1, 7)]
    txs.append(("E2E-R-AC04", waemu_iban("001100000004"), 2_000))
    status, _, answer = bank.client.post(BATCHES, data=pain001("03", [("P", txs)]), headers=XML, idempotency_key="r")
    assert status == 202, answer

    race(lambda: credit_all(answer["id"]), lambda: credit_all(answer["id"]))

    items = TransferBatchItem.objects.select_related("transaction").filter(batch__public_id=answer["id"])
    for item in items:
        txn = item.transaction
        expected = "failed" if item.end_to_end_id == "E2E-R-AC04" else "succeeded"
        assert (txn.status, len(terminal_events(txn))) == (expected, 1), item.end_to_end_id
        assert credited(txn.public_id) == (1 if expected == "succeeded" else 0)
        assert LedgerEntry.objects.filter(transaction=txn).count() == (2 if expected == "succeeded" else 0)
    assert Hold.objects.filter(transaction__kind="bank_transfer_in", status="captured").count() == 6
    assert Hold.objects.filter(transaction__kind="bank_transfer_in", status="released").count() == 1
    assert account_of(bank.partner) == (FUNDED - 6_000, 0)
    assert TransferBatch.objects.get(public_id=answer["id"]).status == "completed"
    assert ledger_check().is_ok


# --- (c) one bad item never blocks the others ------------------------------------------------------


def test_a_transfer_the_pacs008_writer_chokes_on_is_set_aside_by_the_poller_and_the_others_settle(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    settles = create_transfer(bank, "000700001000", "bad-1")
    rejected = create_transfer(bank, "000700000004", "bad-2")
    broken = create_transfer(bank, "000700009903", "bad-3")  # 5xx on the first send: the bank never had it
    for txn in (settles, rejected, broken):
        send(txn.public_id)
    assert Transaction.objects.get(pk=broken.pk).status == "unknown"
    # A row written before the API checked the character set: a control character the pacs.008
    # writer cannot encode (lxml refuses it) when the poller sends the transfer again.
    BankTransfer.objects.filter(transaction=broken).update(remittance_information="Facture\x01007")
    time.sleep(2.1)  # the first status queries are due 2 s after the sends

    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        assert poll_unresolved() == {"credits": 0, "transfers": 3}

    broken.refresh_from_db()
    assert broken.status == "unknown" and broken.set_aside_at is not None and broken.needs_review
    assert broken.review_reason == "banking.poll_unresolved failed: ValueError"
    assert any(broken.public_id in record.getMessage() for record in caplog.records)
    assert Transaction.objects.get(pk=settles.pk).status == "succeeded"
    assert Transaction.objects.get(pk=rejected.pk).status == "failed"
    assert Hold.objects.get(transaction=broken).status == "placed"  # nothing settled for it: staff decide
    assert account_of(bank.partner) == (FUNDED - 250_000, 250_000)

    calls, polls = ProviderCall.objects.count(), BankTransfer.objects.get(transaction=broken).poll_attempts
    BankTransfer.objects.filter(transaction=broken).update(next_poll_at=timezone.now())  # due again, in vain
    assert poll_unresolved() == {"credits": 0, "transfers": 0}  # the next run does not touch it
    assert (ProviderCall.objects.count(), BankTransfer.objects.get(transaction=broken).poll_attempts) == (calls, polls)
    assert ledger_check().is_ok


def test_a_batch_item_the_core_connector_cannot_encode_is_set_aside_and_the_chunk_goes_on(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    txs = [(f"E2E-C-{i}", waemu_iban(f"00120000{2000 + i}"), 1_000) for i in range(1, 5)]
    status, _, answer = bank.client.post(BATCHES, data=pain001("03", [("P", txs)]), headers=XML, idempotency_key="c")
    assert status == 202, answer
    # A row the intake never writes: an account number no credit order can carry.
    TransferBatchItem.objects.filter(end_to_end_id="E2E-C-2").update(creditor_account="NOT-AN-ACCOUNT")
    bad = TransferBatchItem.objects.select_related("transaction").get(end_to_end_id="E2E-C-2").transaction

    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        credit_all(answer["id"])

    bad.refresh_from_db()
    assert bad.set_aside_at is not None and bad.needs_review
    assert bad.review_reason == "banking.bulk_credit_batch failed: AccountNumberError"
    assert any(bad.public_id in record.getMessage() for record in caplog.records)
    others = Transaction.objects.filter(kind="bank_transfer_in").exclude(pk=bad.pk)
    assert sorted(others.values_list("status", flat=True)) == ["succeeded"] * 3
    assert credited(bad.public_id) == 0 and account_of(bank.partner) == (FUNDED - 3_000, 1_000)

    calls = ProviderCall.objects.count()
    TransferBatchItem.objects.filter(transaction=bad).update(next_poll_at=timezone.now())
    assert poll_unresolved() == {"credits": 0, "transfers": 0}  # set aside: neither polled nor re-sent
    credit_all(answer["id"])  # a re-driven chunk skips it too
    assert ProviderCall.objects.count() == calls
    assert Transaction.objects.get(pk=bad.pk).status == bad.status
    assert TransferBatch.objects.get(public_id=answer["id"]).status == "processing"  # staff must resolve it
    assert ledger_check().is_ok


def test_a_transfer_the_worker_cannot_encode_is_set_aside_at_once(bank: Bank) -> None:
    txn = create_transfer(bank, "000700001000", "bad-worker")
    BankTransfer.objects.filter(transaction=txn).update(remittance_information="Facture\x07007")

    send(txn.public_id)

    txn.refresh_from_db()
    assert (txn.status, txn.review_reason) == ("processing", "banking.send_transfer failed: ValueError")
    assert txn.set_aside_at is not None
    assert not ProviderCall.objects.filter(transaction=txn).exists()  # it never left
    assert settled(txn.public_id) == 0


@pytest.mark.parametrize(
    ("case", "text"), [("control", "Facture\x01007"), ("degree", "Facture n°7"), ("cedilla", "Reçu")]
)
def test_remittance_information_outside_the_iso20022_latin_set_is_refused_at_the_api(
    bank: Bank, case: str, text: str
) -> None:
    before = counts()
    status, _, answer = bank.client.post(
        PATH, json=transfer_body("000700001000", remittance_information=text), idempotency_key=f"latin-{case}"
    )
    assert (status, answer["code"]) == (400, "validation_error"), answer
    assert [error["field"] for error in answer["errors"]] == ["remittance_information"]
    assert counts() == before and account_of_or_funded(bank) == (FUNDED, 0)


def account_of_or_funded(bank: Bank) -> tuple[int, int]:
    from ledger.models import Account

    account = Account.objects.filter(partner=bank.partner, mode="test", currency="XOF").first()
    return (account.balance_minor, account.held_minor) if account else (FUNDED, 0)


# --- (d) provider call records ---------------------------------------------------------------------


def calls_of(txn: Transaction) -> list[tuple[str, str]]:
    rows = ProviderCall.objects.filter(transaction=txn).order_by("pk")
    for row in rows:
        assert (row.rail, row.mode, row.reference) == ("banking", "test", txn.public_id)
        assert row.completed_at is not None and row.latency_ms is not None
    return [(row.operation, row.outcome) for row in rows]


@override_settings(SANDBOX_HANG_SECONDS=1.5)
def test_every_call_of_a_transfer_leaves_one_completed_row_per_attempt_and_a_timeout_is_unknown(bank: Bank) -> None:
    ok = create_transfer(bank, "000700001000", "calls-ok")
    lost = create_transfer(bank, "000700009902", "calls-9902")  # the bank takes it, the answer times out
    flaky = create_transfer(bank, "000700009903", "calls-9903")  # 5xx once: nothing happened there

    for txn in (ok, lost, flaky):
        send(txn.public_id)

    assert calls_of(ok) == [("send_transfer", "ok")]
    assert ProviderCall.objects.get(transaction=ok).provider == "partner-bank"
    assert ProviderCall.objects.get(transaction=ok).http_status == 202
    assert calls_of(lost) == [("send_transfer", "unknown")]
    assert ProviderCall.objects.get(transaction=lost).http_status is None  # no answer within the read timeout
    assert calls_of(flaky) == [("send_transfer", "unknown")]
    assert ProviderCall.objects.get(transaction=flaky).http_status == 503

    time.sleep(2.1)
    poll_unresolved()
    assert calls_of(ok) == [("send_transfer", "ok"), ("transfer_status", "ok")]
    assert calls_of(lost) == [("send_transfer", "unknown"), ("transfer_status", "ok")]
    # The bank never had it: its 404 is recorded as a refused query (core/http.py records a non-2xx
    # answer as rejected), then the transfer is sent again under the same reference.
    assert calls_of(flaky) == [("send_transfer", "unknown"), ("transfer_status", "rejected"), ("send_transfer", "ok")]
    assert ProviderCall.objects.filter(transaction__isnull=True).count() == 0


@override_settings(SANDBOX_HANG_SECONDS=1.5)
def test_every_call_of_a_batch_credit_leaves_one_completed_row_per_attempt_and_a_timeout_is_unknown(
    bank: Bank,
) -> None:
    txs = [
        ("E2E-D-OK", waemu_iban("001300001000"), 1_000),
        ("E2E-D-AC04", waemu_iban("001300000004"), 2_000),  # a refusal is an answer: the call is ok
        ("E2E-D-LOST", waemu_iban("001300009902"), 3_000),  # posted, the answer times out
    ]
    status, _, answer = bank.client.post(BATCHES, data=pain001("09", [("P", txs)]), headers=XML, idempotency_key="d")
    assert status == 202, answer

    credit_all(answer["id"])

    by_e2e = {
        item.end_to_end_id: item.transaction
        for item in TransferBatchItem.objects.select_related("transaction").filter(batch__public_id=answer["id"])
    }
    assert calls_of(by_e2e["E2E-D-OK"]) == [("credit_account", "ok")]
    assert calls_of(by_e2e["E2E-D-AC04"]) == [("credit_account", "ok")]
    assert calls_of(by_e2e["E2E-D-LOST"]) == [("credit_account", "unknown")]
    assert {row.provider for row in ProviderCall.objects.all()} == {"core-banking"}
    assert ProviderCall.objects.get(transaction=by_e2e["E2E-D-OK"]).http_status == 201

    time.sleep(2.1)
    assert poll_unresolved() == {"credits": 1, "transfers": 0}
    assert calls_of(by_e2e["E2E-D-LOST"]) == [("credit_account", "unknown"), ("credit_status", "ok")]
    assert Transaction.objects.get(pk=by_e2e["E2E-D-LOST"].pk).status == "succeeded"
    assert credited(by_e2e["E2E-D-LOST"].public_id) == 1
