"""Execution and resolution of bill payments, in-process against the sandbox over HTTP: retries
with the same reference, the poller, the review flag, crash recovery, the demo seeder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ledger.models import Transaction
from ledger.services import transaction_transition
from partners.demo import DemoContext
from partners.models import Mode, Partner, ProviderConnection
from partners.services import provider_connection_upsert
from payments.demo import seed_bills
from payments.models import BillPayment
from payments.services import (
    Step,
    bill_payment_execute,
    bill_payment_resolve,
    bill_payments_due_for_poll,
    bill_payments_stuck_pending,
)
from payments.tasks import bill_payment_execute_task, poll_bill_payments_task
from tests.payments.test_api_bills import Bills, bills_setup, paid
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bills(live_server: Any, settings: Any) -> Bills:
    settings.SANDBOX_HANG_SECONDS = 2.0
    return bills_setup(live_server)


def _accepted(bills: Bills, biller: str, customer_reference: str, amount: str | None) -> BillPayment:
    quote = bills.quote(biller, customer_reference, amount)
    status, _, body = bills.pay(quote["id"])
    assert status == 202, body
    return BillPayment.objects.select_related("transaction").get(public_id=body["id"])


def _point_niirpay_at(base_url: str) -> None:
    connection = ProviderConnection.objects.get(partner__code="niirpay", mode=Mode.TEST)
    provider_connection_upsert(
        partner=connection.partner, mode=Mode.TEST, connector="niirpay", base_url=base_url
    )  # fmt: skip


def _txn(payment: BillPayment) -> Transaction:
    return Transaction.objects.get(pk=payment.transaction_id)


def test_an_unreachable_provider_is_retried_then_flagged_and_the_poller_pays_once(bills: Bills) -> None:
    payment = _accepted(bills, "WOYOFAL", "14212345678", "5000")
    balance, held, entries = bills.money()
    _point_niirpay_at(f"http://127.0.0.1:{free_port()}/")  # connection refused: nothing was sent

    result = bill_payment_execute_task.apply(args=(payment.pk,)).get()  # eager: retries run at once

    txn = _txn(payment)
    assert result == "needs_review"
    assert (txn.status, txn.needs_review) == ("processing", True)  # not failed: retries ran out, staff look
    assert bills.money() == (balance, held, entries) and paid(txn.public_id) == 0

    _point_niirpay_at(bills.sandbox_url + "niirpay/")
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SUCCEEDED

    assert paid(txn.public_id) == 1  # the same reference, paid once
    assert _txn(payment).status == "succeeded"
    assert bills.money()[:2] == (balance - 5_100, held - 5_100)


def test_an_unknown_payment_past_the_age_limit_is_flagged_and_never_failed(bills: Bills) -> None:
    payment = _accepted(bills, "SENELEC", "012345679902", None)
    assert bill_payment_execute(bill_payment_id=payment.pk) is Step.UNKNOWN
    Transaction.objects.filter(pk=payment.transaction_id).update(created_at=timezone.now() - timedelta(hours=2))
    _point_niirpay_at(f"http://127.0.0.1:{free_port()}/")
    held_before = bills.money()[1]

    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.UNKNOWN

    txn = _txn(payment)
    assert (txn.status, txn.needs_review) == ("unknown", True)
    assert bills.money()[1] == held_before  # still held
    next_poll_at = BillPayment.objects.get(pk=payment.pk).next_poll_at
    assert next_poll_at is not None and next_poll_at > timezone.now()  # asked again later, with backoff

    _point_niirpay_at(bills.sandbox_url + "niirpay/")
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SUCCEEDED
    assert _txn(payment).status == "succeeded" and paid(txn.public_id) == 1


def test_a_biller_down_after_acceptance_is_retried_with_backoff_never_failed(bills: Bills) -> None:
    payment = _accepted(bills, "WOYOFAL", "14212345678", "5000")
    bills.knobs(unavailable_billers=("WOYOFAL",))

    assert bill_payment_execute(bill_payment_id=payment.pk) is Step.RETRY
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.RETRY  # not found → sent again → down

    txn = _txn(payment)
    assert txn.status == "processing" and paid(txn.public_id) == 0
    polled = BillPayment.objects.get(pk=payment.pk)
    assert polled.status_queries == 1
    assert polled.next_poll_at is not None and polled.next_poll_at > timezone.now()

    bills.knobs()
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SUCCEEDED
    assert paid(txn.public_id) == 1


def test_the_poller_picks_due_payments_once(bills: Bills) -> None:
    unknown = _accepted(bills, "SENELEC", "012345679902", None)
    bill_payment_execute(bill_payment_id=unknown.pk)
    lost_message = _accepted(bills, "ORANGE_AIRTIME", "771234567", "1000")  # no worker ever ran it
    not_due = _accepted(bills, "WOYOFAL", "14212345678", "5000")
    BillPayment.objects.filter(pk__in=[unknown.pk, lost_message.pk]).update(next_poll_at=timezone.now())

    assert bill_payments_due_for_poll() == [unknown.pk]
    assert bill_payments_stuck_pending() == [lost_message.pk]
    assert bill_payments_due_for_poll() == bill_payments_stuck_pending() == []  # claimed: pushed back
    claimed = BillPayment.objects.get(pk=unknown.pk).next_poll_at
    assert claimed is not None and claimed > timezone.now() + timedelta(seconds=20)
    assert BillPayment.objects.get(pk=not_due.pk).next_poll_at > timezone.now()  # type: ignore[operator]

    BillPayment.objects.filter(pk__in=[unknown.pk, lost_message.pk]).update(next_poll_at=timezone.now())
    assert poll_bill_payments_task() == 2
    assert bill_payment_execute(bill_payment_id=lost_message.pk) is Step.SUCCEEDED  # what the task runs
    assert paid(lost_message.transaction.public_id) == 1


def test_a_worker_lost_after_its_claim_is_recovered_by_the_poller(bills: Bills) -> None:
    payment = _accepted(bills, "SENEAU", "1234567890", None)
    transaction_transition(transaction=payment.transaction, to_status="processing", cause="worker")  # then died
    assert bill_payment_execute(bill_payment_id=payment.pk) is Step.SKIPPED  # redelivery: already claimed
    BillPayment.objects.filter(pk=payment.pk).update(next_poll_at=timezone.now())

    assert poll_bill_payments_task() == 1
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SUCCEEDED

    assert _txn(payment).status == "succeeded" and paid(payment.transaction.public_id) == 1
    assert bill_payment_resolve(bill_payment_id=payment.pk) is Step.SKIPPED  # final: nothing more


def test_the_demo_seeder_is_idempotent(live_server: Any) -> None:
    context = DemoContext(base_url=live_server.url)

    first = seed_bills(context)
    second = seed_bills(context)

    assert first == second == {"provider": "niirpay", "sandbox": live_server.url + "/sandbox/niirpay/"}
    assert Partner.objects.filter(code="niirpay").count() == 1
    connection = ProviderConnection.objects.get(partner__code="niirpay", mode=Mode.TEST)
    assert connection.base_url == live_server.url + "/sandbox/niirpay/" and connection.is_enabled


def test_the_admin_lists_payments_and_quotes_read_only(bills: Bills, staff_client: Any) -> None:
    payment = _accepted(bills, "ORANGE_AIRTIME", "771234567", "1000")

    listing = staff_client.get("/admin/payments/billpayment/")
    detail = staff_client.get(f"/admin/payments/billpayment/{payment.pk}/change/")
    quotes = staff_client.get("/admin/payments/quote/?mode=test")

    assert (listing.status_code, detail.status_code, quotes.status_code) == (200, 200, 200)
    assert payment.public_id in listing.content.decode()
    assert b'name="_save"' not in detail.content  # nothing to save: read-only
    assert staff_client.get("/admin/payments/billpayment/add/").status_code == 403
