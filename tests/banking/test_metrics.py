"""The bank-transfer rail moves its documented metrics (issue 16, item 5; docs/operations.md
"Metrics"): ``addon_batch_items_total{rail="banking",outcome}`` for each credit of a received
batch settled, ``addon_callbacks_total{provider="partner_bank",outcome}`` for each pacs.002
received, rejected, duplicated, verified and applied — each once, after commit."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import REGISTRY

from banking.providers.partner_bank import sign_status_message
from sandbox.models import SimCallback
from sandbox.tasks import callback_deliver
from tests.banking.test_api_batches import OUTCOMES_V03, Bank, bank_fixture, credit_all, pain001  # noqa: F401 - `bank`
from tests.banking.test_api_transfers import apply_callbacks, send, transfer_body

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES = ("received", "verified", "rejected", "duplicate", "applied", "flagged")


def callbacks(outcome: str) -> float:
    labels = {"provider": "partner_bank", "outcome": outcome}
    return REGISTRY.get_sample_value("addon_callbacks_total", labels) or 0.0


def batch_items(outcome: str) -> float:
    return REGISTRY.get_sample_value("addon_batch_items_total", {"rail": "banking", "outcome": outcome}) or 0.0


def test_each_credit_of_a_received_batch_is_counted_once_by_outcome(bank: Bank) -> None:
    ok, failed = batch_items("succeeded"), batch_items("failed")
    body = pain001("03", [("PMT-A", OUTCOMES_V03)], msg_id="METRICS-1")
    status, _, answer = bank.client.post(
        "/api/v1/banking/transfer-batches", data=body, headers={"Content-Type": "application/xml"}, idempotency_key="m"
    )
    assert status == 202, answer
    credit_all(answer["id"])
    credit_all(answer["id"])  # a repeated task settles nothing more
    assert (batch_items("succeeded") - ok, batch_items("failed") - failed) == (2, 4)


def post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/xml", "X-Bank-Signature": signature}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_partner_bank_callbacks_are_counted_received_rejected_verified_duplicate_applied(bank: Bank) -> None:
    before = {outcome: callbacks(outcome) for outcome in OUTCOMES}
    _, _, answer = bank.client.post(
        "/api/v1/banking/transfers", json=transfer_body("000700005000"), idempotency_key="t-metrics"
    )
    send(answer["id"])
    time.sleep(0.4)  # the bank settles 0.3 s after accepting
    pending = SimCallback.objects.get(provider="partner_bank", status="pending")
    body, url = bytes(pending.body), bank.live_url + "/callbacks/partner-bank"
    assert post(url, body, sign_status_message("not-the-secret", body, int(time.time()))) == 401
    callback_deliver(pending.pk)  # the genuine one
    assert post(url, body, pending.headers["X-Bank-Signature"]) == 200  # the bank's retry
    apply_callbacks()
    apply_callbacks()
    moved = {outcome: callbacks(outcome) - before[outcome] for outcome in OUTCOMES}
    assert moved == {"received": 3, "verified": 1, "rejected": 1, "duplicate": 1, "applied": 1, "flagged": 0}
