"""The bills rail on the execution kit (issue 10), over real HTTP against the sandbox Niirpay:

- the same provider answer applied twice (a worker's retry and the poller racing) moves money once;
- one payment that makes the poller fail unexpectedly is set aside, the others settle;
- every provider call of a bill payment leaves one completed call record per attempt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from core.policy import policy_for
from ledger.models import Hold, HoldStatus, LedgerEntry, Posting, ProviderCall, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import transaction_transition
from ledger.states import Cause, Status
from partners.models import Mode, ProviderConnection
from partners.registry import register, unregister
from payments.models import BillPayment
from payments.providers.base import PaymentResult
from payments.providers.niirpay import NiirpayConnector
from payments.services import (
    Step,
    bill_payment_execute,
    bill_payment_resolve,
    bill_payments_due_for_poll,
    bill_payments_stuck_pending,
)
from payments.tasks import bill_payment_execute_task, bill_payments_resolve_task, poll_bill_payments_task
from tests.payments.test_api_bills import BILLERS, Bills, bills_setup, paid
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)

TERMINAL = (Status.SUCCEEDED, Status.FAILED)


@pytest.fixture
def bills(live_server: Any, settings: Any) -> Bills:
    settings.SANDBOX_HANG_SECONDS = 1.0  # past the connection's 0.5 s read timeout (9902)
    return bills_setup(live_server, read_timeout=0.5)


def _accepted(bills: Bills, biller: str, suffix: str = "") -> BillPayment:
    example, amount = BILLERS[biller]
    quote = bills.quote(biller, example[: len(example) - len(suffix)] + suffix, amount)
    status, _, body = bills.pay(quote["id"])
    assert status == 202, body
    return BillPayment.objects.select_related("transaction").get(public_id=body["id"])


def _claimed(payment: BillPayment) -> Transaction:
    """What a worker's claim leaves: the payment processing (its run then lost, say)."""
    return transaction_transition(transaction=payment.transaction, to_status=Status.PROCESSING, cause=Cause.WORKER)


def _race(*calls: Callable[[], Step]) -> list[Step]:
    """Run the calls at the same instant, each in its own thread (and DB connection)."""
    barrier = threading.Barrier(len(calls))
    results: list[Step] = []

    def run(call: Callable[[], Step]) -> None:
        try:
            barrier.wait()
            results.append(call())
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == len(calls)
    return results


def _money_of(txn: Transaction) -> tuple[str, int, int]:
    """(hold status, postings, ledger entries) of one transaction."""
    postings, entries = Posting.objects.filter(transaction=txn), LedgerEntry.objects.filter(transaction=txn)
    return Hold.objects.get(transaction=txn).status, postings.count(), entries.count()


def _terminal_events(txn: Transaction) -> int:
    return TransactionEvent.objects.filter(transaction=txn, to_status__in=TERMINAL).count()


# --- the same outcome applied twice moves money once -------------------------------------------------


def test_a_worker_retry_and_the_poller_racing_on_a_success_capture_once(bills: Bills) -> None:
    reference_payment = _accepted(bills, "SENEAU")  # paid the ordinary way: what one capture writes
    assert bill_payment_execute(bill_payment_id=reference_payment.pk) is Step.SUCCEEDED
    one_capture = _money_of(reference_payment.transaction)
    payment = _accepted(bills, "WOYOFAL")
    balance, held, _ = bills.money()
    total = payment.quote.total_minor
    txn = _claimed(payment)

    steps = _race(
        lambda: bill_payment_execute(bill_payment_id=payment.pk, is_retry=True),  # the worker's retry
        lambda: bill_payment_resolve(bill_payment_id=payment.pk),  # the poller, at the same time
    )

    assert steps.count(Step.SUCCEEDED) == 1, steps
    assert set(steps) - {Step.SUCCEEDED} <= {Step.SKIPPED, Step.UNKNOWN}  # the loser moved nothing
    assert Transaction.objects.get(pk=txn.pk).status == Status.SUCCEEDED
    assert _money_of(txn) == one_capture and one_capture[0] == HoldStatus.CAPTURED and one_capture[1] == 1
    assert bills.money()[:2] == (balance - total, held - total)
    assert _terminal_events(txn) == 1 and paid(txn.public_id) == 1
    assert BillPayment.objects.get(pk=payment.pk).receipt_number  # the receipt came with the status
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SKIPPED  # and again, later: nothing
    assert _terminal_events(txn) == 1 and bills.money()[:2] == (balance - total, held - total)
    assert ledger_check().is_ok


def test_a_worker_retry_and_the_poller_racing_on_a_refusal_release_once(bills: Bills) -> None:
    payment = _accepted(bills, "SENELEC", "9901")  # the provider records the payment as failed
    balance, held, _ = bills.money()
    total = payment.quote.total_minor
    txn = _claimed(payment)

    steps = _race(
        lambda: bill_payment_execute(bill_payment_id=payment.pk, is_retry=True),
        lambda: bill_payment_resolve(bill_payment_id=payment.pk),
    )

    assert steps.count(Step.FAILED) == 1, steps
    assert set(steps) - {Step.FAILED} <= {Step.SKIPPED, Step.UNKNOWN}
    failed = Transaction.objects.get(pk=txn.pk)
    assert (failed.status, failed.failure_code) == (Status.FAILED, "provider_rejected")
    assert _money_of(txn) == (HoldStatus.RELEASED, 0, 0)  # released once, nothing posted
    assert bills.money()[:2] == (balance, held - total)
    assert _terminal_events(txn) == 1 and paid(txn.public_id) == 0
    assert bill_payment_execute(bill_payment_id=payment.pk, is_retry=True) is Step.SKIPPED
    assert _terminal_events(txn) == 1 and bills.money()[:2] == (balance, held - total)
    assert ledger_check().is_ok


# --- one bad item never blocks the others -------------------------------------------------------------


class _StatusBreaksFor(NiirpayConnector):
    """Niirpay, except that the status query of the listed references fails with a bug."""

    bad_references: ClassVar[set[str]] = set()
    asked: ClassVar[list[str]] = []

    def payment_status(self, reference: str) -> PaymentResult:
        self.asked.append(reference)
        if reference in self.bad_references:
            raise RuntimeError("a bug met this payment")
        return super().payment_status(reference)


@pytest.fixture
def breaking_niirpay() -> Iterator[type[_StatusBreaksFor]]:
    register("niirpay_status_breaks")(_StatusBreaksFor)
    _StatusBreaksFor.bad_references, _StatusBreaksFor.asked = set(), []
    ProviderConnection.objects.filter(partner__code="niirpay", mode=Mode.TEST).update(connector="niirpay_status_breaks")
    yield _StatusBreaksFor
    unregister("niirpay_status_breaks")


def test_a_payment_that_breaks_the_poller_is_set_aside_and_the_others_settle(
    bills: Bills, breaking_niirpay: type[_StatusBreaksFor], caplog: pytest.LogCaptureFixture
) -> None:
    payments = [_accepted(bills, biller) for biller in ("ORANGE_AIRTIME", "WOYOFAL", "CANALPLUS")]
    for payment in payments:  # claimed, then the answer was lost: the poller's work
        transaction_transition(transaction=_claimed(payment), to_status=Status.UNKNOWN, cause=Cause.WORKER)
    bad = payments[1]
    breaking_niirpay.bad_references.add(bad.transaction.public_id)
    BillPayment.objects.filter(pk__in=[p.pk for p in payments]).update(next_poll_at=timezone.now())
    balance, held, _ = bills.money()

    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        due = bill_payments_due_for_poll()
        steps = bill_payments_resolve_task(due)  # the chunk the beat enqueues, run here in-process

    assert sorted(due) == sorted(p.pk for p in payments)
    assert steps == {Step.SUCCEEDED: 2, Step.SET_ASIDE: 1}
    set_aside = Transaction.objects.get(pk=bad.transaction_id)
    assert set_aside.set_aside_at is not None and set_aside.needs_review
    assert set_aside.review_reason == "payments.bill_payment_resolve failed: RuntimeError"
    assert set_aside.status == Status.UNKNOWN  # nothing guessed: still held for staff
    assert any(bad.transaction.public_id in record.getMessage() for record in caplog.records)
    for good in (payments[0], payments[2]):
        assert Transaction.objects.get(pk=good.transaction_id).status == Status.SUCCEEDED
        assert paid(good.transaction.public_id) == 1
    settled = sum(p.quote.total_minor for p in (payments[0], payments[2]))
    assert bills.money()[:2] == (balance - settled, held - settled)

    BillPayment.objects.filter(pk=bad.pk).update(next_poll_at=timezone.now())  # due again by its clock
    assert bill_payments_due_for_poll() == [] and bill_payments_stuck_pending() == []
    assert poll_bill_payments_task() == 0  # the next beat does not touch it
    assert breaking_niirpay.asked.count(bad.transaction.public_id) == 1
    assert ledger_check().is_ok


# --- provider call records ----------------------------------------------------------------------------


def _calls_of(txn: Transaction) -> list[ProviderCall]:
    return list(ProviderCall.objects.filter(transaction=txn).order_by("id"))


def _assert_completed(call: ProviderCall, txn: Transaction, *, operation: str, outcome: str) -> None:
    assert (call.rail, call.provider, call.mode) == ("bills", "niirpay", "test")
    assert (call.operation, call.outcome, call.reference) == (operation, outcome, txn.public_id)
    assert call.completed_at is not None and call.completed_at >= call.started_at
    assert call.latency_ms is not None


def test_a_bill_payment_leaves_one_completed_call_record_per_provider_call(bills: Bills) -> None:
    payment = _accepted(bills, "SENELEC")  # lookup, quote, then pay
    txn = payment.transaction

    assert bill_payment_execute(bill_payment_id=payment.pk) is Step.SUCCEEDED

    (pay,) = _calls_of(txn)
    _assert_completed(pay, txn, operation="pay", outcome="ok")
    assert pay.http_status is not None and 200 <= pay.http_status < 300 and pay.error_code == ""
    before = ProviderCall.objects.filter(transaction__isnull=True, provider="niirpay")
    assert {"lookup", "quote"} <= set(before.values_list("operation", flat=True))  # not about a movement yet
    assert not before.filter(completed_at__isnull=True).exists() and not before.exclude(outcome="ok").exists()


def test_a_lost_answer_leaves_an_unknown_call_record_and_the_status_query_its_own(bills: Bills) -> None:
    payment = _accepted(bills, "WOYOFAL", "9902")  # Niirpay pays, then stalls past our read timeout
    txn = payment.transaction

    assert bill_payment_execute(bill_payment_id=payment.pk) is Step.UNKNOWN
    (pay,) = _calls_of(txn)
    _assert_completed(pay, txn, operation="pay", outcome="unknown")
    assert (pay.http_status, pay.retryable) == (None, True) and pay.error_code

    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SUCCEEDED
    _, status_query = _calls_of(txn)
    _assert_completed(status_query, txn, operation="payment_status", outcome="ok")
    assert paid(txn.public_id) == 1


def test_each_send_to_an_unreachable_provider_leaves_one_unavailable_record(bills: Bills) -> None:
    payment = _accepted(bills, "ORANGE_AIRTIME")
    txn = payment.transaction
    ProviderConnection.objects.filter(partner__code="niirpay", mode=Mode.TEST).update(
        base_url=f"http://127.0.0.1:{free_port()}/"  # connection refused: nothing is sent
    )

    assert bill_payment_execute_task.apply(args=(payment.pk,)).get() == "needs_review"  # eager: retries at once

    calls = _calls_of(txn)
    assert len(calls) == policy_for("bills", Mode.TEST).max_attempts
    for call in calls:
        _assert_completed(call, txn, operation="pay", outcome="unavailable")
        assert (call.http_status, call.retryable) == (None, True)
    assert paid(txn.public_id) == 0


# --- one partner-API dialect --------------------------------------------------------------------------


def test_the_biller_catalogue_pages_with_the_one_cursor_paginator(bills: Bills) -> None:
    codes: list[str] = []
    path = "/api/v1/bills/billers?limit=2"
    for _ in range(3):
        status, _, page = bills.client.get(path)
        assert status == 200, page
        assert page["object"] == "list" and len(page["data"]) <= 2
        codes += [biller["code"] for biller in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        path = f"/api/v1/bills/billers?limit=2&cursor={page['next_cursor']}"
    assert codes == sorted(BILLERS)  # each biller once, in code order, over three pages

    status, _, whole = bills.client.get("/api/v1/bills/billers")
    assert (len(whole["data"]), whole["has_more"], whole["next_cursor"]) == (len(BILLERS), False, None)


@pytest.mark.parametrize(
    ("query", "field"), [("limit=0", "limit"), ("limit=101", "limit"), ("cursor=%25%25", "cursor")]
)
def test_a_bad_page_of_billers_is_a_400_naming_the_field(bills: Bills, query: str, field: str) -> None:
    status, headers, body = bills.client.get(f"/api/v1/bills/billers?{query}")
    assert (status, body["code"], headers["Content-Type"]) == (400, "validation_error", "application/problem+json")
    assert [error["field"] for error in body["errors"]] == [field]
