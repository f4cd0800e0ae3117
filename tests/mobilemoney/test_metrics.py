"""The mobile-money rail moves its documented metrics (issue 16, item 5; docs/operations.md
"Metrics"): ``addon_callbacks_total{provider,outcome}`` for each delivery received, verified,
rejected, duplicated, applied or flagged, and ``addon_batch_items_total{rail,outcome}`` for each
batch item settled — each once, after commit. The live server runs in this process, so the
default registry sees what its requests count."""

from __future__ import annotations

import json

import pytest
from django.db import transaction as db_transaction
from prometheus_client import REGISTRY

from mobilemoney.models import BatchChunk, CashInBatch, CheckoutSession
from mobilemoney.services.batch_work import chunk_work
from mobilemoney.services.callbacks import callback_receive
from tests.mobilemoney.api_support import connect_providers, deliver_sandbox_callbacks, make_partner, post_callback
from tests.mobilemoney.test_api_checkout_and_callbacks import apply_all, create_session, send_wave, wave_event

pytestmark = pytest.mark.django_db(transaction=True)


def callbacks(provider: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("addon_callbacks_total", {"provider": provider, "outcome": outcome}) or 0.0


def batch_items(rail: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("addon_batch_items_total", {"rail": rail, "outcome": outcome}) or 0.0


OUTCOMES = ("received", "verified", "rejected", "duplicate", "applied", "flagged")


def moved(provider: str, before: dict[str, float]) -> dict[str, float]:
    return {outcome: callbacks(provider, outcome) - before[outcome] for outcome in OUTCOMES}


@pytest.fixture
def accounts(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    return connect_providers(live_server.url)


@pytest.fixture
def side(live_server, accounts):  # type: ignore[no-untyped-def]
    return make_partner(live_server.url)


def test_wave_callbacks_are_counted_received_verified_duplicate_applied_rejected_flagged(
    side, live_server, accounts
) -> None:  # type: ignore[no-untyped-def]
    before = {outcome: callbacks("wave", outcome) for outcome in OUTCOMES}
    body = create_session(side, "wave")
    paid = side.client.post(
        f"/api/v1/test-helpers/checkout-sessions/{body['id']}/pay", json={"payer_msisdn": "+221770001234"}
    )
    assert paid.status == 200, paid.body
    assert deliver_sandbox_callbacks(live_server.url, "wave", times=3) == [200] * 3  # one event, thrice
    assert moved("wave", before) == dict.fromkeys(OUTCOMES, 0) | {"received": 3, "verified": 3, "duplicate": 2}

    assert apply_all() == 1
    apply_all()  # nothing left to apply: nothing counted
    assert moved("wave", before)["applied"] == 1

    session = CheckoutSession.objects.get(public_id=body["id"])
    raw = json.dumps(wave_event(session, "checkout.session.completed", "EV_forged")).encode()
    assert post_callback(live_server.url, "wave", raw, {"Wave-Signature": "t=1,v1=00"}) == 401
    ghost = CheckoutSession(public_id="cos_nobody", provider_session_id="cos-ghost")
    assert send_wave(live_server, accounts, wave_event(ghost, "checkout.session.completed", "EV_ghost")) == 200
    apply_all()
    assert moved("wave", before) == {
        "received": 5, "verified": 4, "rejected": 1, "duplicate": 2, "applied": 1, "flagged": 1,
    }  # fmt: skip


@pytest.mark.parametrize("provider", ["wave", "orange_money"])
def test_each_settled_batch_item_is_counted_once_by_outcome(side, provider) -> None:  # type: ignore[no-untyped-def]
    ok, failed = batch_items("mobile_money", "succeeded"), batch_items("mobile_money", "failed")
    items = [
        {"msisdn": f"+22177000{suffix}", "amount": "1000", "currency": "XOF", "client_reference": f"m-{i}"}
        for i, suffix in enumerate(["1234", "9901", "1235", "9904", "1236"])
    ]
    answer = side.client.post(
        "/api/v1/mobile-money/cash-in-batches", json={"provider": provider, "items": items}, idempotency_key="m"
    )
    assert answer.status == 202, answer.body
    batch = CashInBatch.objects.get(public_id=answer.body["id"])
    for _ in range(6):  # Wave's batch settles over a few status polls; a done chunk does nothing
        BatchChunk.objects.filter(batch=batch).update(lease_until=None)
        chunk_work(BatchChunk.objects.get(batch=batch).pk)
    batch.refresh_from_db()
    assert batch.status == "completed"
    assert batch_items("mobile_money", "succeeded") - ok == 3
    assert batch_items("mobile_money", "failed") - failed == 2


def test_work_rolled_back_counts_nothing(accounts) -> None:  # type: ignore[no-untyped-def]
    before = {outcome: callbacks("wave", outcome) for outcome in OUTCOMES}
    with pytest.raises(RuntimeError), db_transaction.atomic():
        assert callback_receive(provider="wave", headers={}, raw_body=b"{}").verified is False
        raise RuntimeError("rolled back")
    assert moved("wave", before) == dict.fromkeys(OUTCOMES, 0)
    callback_receive(provider="wave", headers={}, raw_body=b"{}")  # committed: counted
    assert moved("wave", before) == dict.fromkeys(OUTCOMES, 0) | {"received": 1, "rejected": 1}
