"""The mobile-money rail on the execution kit (issue 10), through its real entry points against the
sandbox over HTTP: a callback and the poller racing on one cash-in move money once; one item a
poller or a chunk chokes on is set aside and never blocks the others; every provider call of a
cash-in leaves one completed provider-call row per attempt, a timeout an ``unknown`` one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ledger.models import Hold, LedgerEntry, ProviderCall, Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import BatchChunk, CallbackStatus, CashIn, CashInBatch, InboundCallback
from mobilemoney.providers.base import CashInResult, OperationStatus
from mobilemoney.providers.orange_money import OrangeMoneyConnector
from mobilemoney.services.batch_work import chunk_work
from mobilemoney.services.callbacks import callback_apply
from mobilemoney.services.cash_ins import cash_in_process, cash_in_resolve, cash_ins_due
from mobilemoney.services.outcomes import result_apply
from partners.models import ProviderConnection
from partners.registry import register, unregister
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner, paid_count

pytestmark = pytest.mark.django_db(transaction=True)

FLAKY = "mm_test_flaky_orange_money"


@pytest.fixture
def side(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2  # beyond the connections' 1.5 s read timeout: 9902 is a timeout
    connect_providers(live_server.url)
    return make_partner(live_server.url)


def accept(side, provider: str, suffix: str, key: str) -> CashIn:  # type: ignore[no-untyped-def]
    answer = side.client.post(
        "/api/v1/mobile-money/cash-ins", json=cash_in_body(provider, suffix, client_reference=key), idempotency_key=key
    )
    assert answer.status == 202, answer.body
    return CashIn.objects.select_related("transaction").get(transaction__public_id=answer.body["id"])


def stored_event(cash_in: CashIn, status: str, event_id: str) -> InboundCallback:
    """A verified provider event about the cash-in, as ``callback_receive`` stores it."""
    return InboundCallback.objects.create(
        provider=cash_in.provider,
        mode="test",
        event_id=event_id,
        event_type="cash_in",
        raw_body=b"{}",
        event={
            "kind": "cash_in",
            "reference": cash_in.transaction.public_id,
            "provider_reference": None,
            "status": status,
            "failure_code": "provider_rejected" if status == "failed" else None,
        },
    )


def race(*entry_points: Callable[[], object]) -> None:
    """Run the entry points at once (released together by a barrier), each on its own connection."""
    barrier = threading.Barrier(len(entry_points))
    errors: list[BaseException] = []

    def run(entry_point: Callable[[], object]) -> None:
        try:
            barrier.wait()
            entry_point()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(entry_point,)) for entry_point in entry_points]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []


def terminal_events(txn: Transaction) -> int:
    return txn.events.filter(to_status__in=["succeeded", "failed"]).count()


@pytest.mark.parametrize("provider", ["wave", "orange_money"])
def test_a_callback_and_the_poller_racing_on_a_success_capture_once(side, provider) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    cash_in = accept(side, provider, "9902", "race-ok")
    cash_in_process(cash_in.pk)  # the answer is lost: unknown, held
    assert Transaction.objects.get(pk=cash_in.transaction_id).status == "unknown"
    event = stored_event(cash_in, "succeeded", "EV_race_ok")

    race(lambda: cash_in_resolve(cash_in.pk), lambda: callback_apply([event.pk]))

    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert txn.status == "succeeded" and terminal_events(txn) == 1
    assert Hold.objects.get(transaction=txn).status == "captured"
    assert LedgerEntry.objects.filter(transaction=txn).count() == 2  # one capture: partner -x, float +x
    assert side.money() == (balance - 1500, held)
    assert paid_count(provider, txn.public_id) == 1
    assert InboundCallback.objects.get(pk=event.pk).status == CallbackStatus.APPLIED
    assert ledger_check().is_ok


def test_a_callback_and_the_poller_racing_on_a_failure_release_once(side) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    cash_in = accept(side, "orange_money", "9902", "race-ko")
    cash_in_process(cash_in.pk)
    event = stored_event(cash_in, "failed", "EV_race_ko")
    refused = CashInResult(
        reference=cash_in.transaction.public_id,
        provider_reference=None,
        status=OperationStatus.FAILED,
        failure_code="provider_rejected",
    )

    def poller() -> None:  # the poller's applier, with the provider's answer
        result_apply(CashIn.objects.select_related("transaction").get(pk=cash_in.pk), refused, cause="poller")

    race(poller, lambda: callback_apply([event.pk]))

    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert (txn.status, txn.failure_code) == ("failed", "provider_rejected") and terminal_events(txn) == 1
    assert Hold.objects.get(transaction=txn).status == "released"
    assert LedgerEntry.objects.filter(transaction=txn).count() == 0
    assert side.money() == (balance, held)
    assert ledger_check().is_ok


def test_a_chunk_item_the_code_chokes_on_is_set_aside_and_the_others_are_paid(side, caplog) -> None:  # type: ignore[no-untyped-def]
    items = [{"msisdn": f"+22177000{1234 + i}", "amount": "1000", "currency": "XOF", "client_reference": f"p-{i}"}
             for i in range(3)]  # fmt: skip
    answer = side.client.post(
        "/api/v1/mobile-money/cash-in-batches", json={"provider": "orange_money", "items": items}, idempotency_key="b"
    )
    batch = CashInBatch.objects.get(public_id=answer.body["id"])
    bad = CashIn.objects.select_related("transaction").get(batch=batch, line=1)
    CashIn.objects.filter(pk=bad.pk).update(msisdn="not-a-number")  # a row the connector cannot encode

    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        chunk_work(BatchChunk.objects.get(batch=batch).pk)

    bad_txn = Transaction.objects.get(pk=bad.transaction_id)
    assert bad_txn.set_aside_at is not None and bad_txn.needs_review and "bulk_item_submit" in bad_txn.review_reason
    assert any(getattr(r, "transaction", None) == bad_txn.public_id for r in caplog.records)
    others = Transaction.objects.filter(cash_in__batch=batch).exclude(pk=bad_txn.pk)
    assert sorted(others.values_list("status", flat=True)) == ["succeeded", "succeeded"]
    assert paid_count("orange_money", bad_txn.public_id) == 0

    CashIn.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
    assert bad.pk not in cash_ins_due()  # the next poller run leaves it to staff
    BatchChunk.objects.filter(batch=batch).update(status="pending", lease_until=None)
    chunk_work(BatchChunk.objects.get(batch=batch).pk)  # nor does a re-driven chunk touch it
    assert Transaction.objects.get(pk=bad_txn.pk).updated_at == bad_txn.updated_at
    assert ledger_check().is_ok


@pytest.fixture
def flaky_orange_money(side) -> Iterator[set[str]]:  # type: ignore[no-untyped-def]
    """Orange Money through a throw-away connector whose status query raises for chosen references."""
    broken: set[str] = set()

    class FlakyOrangeMoney(OrangeMoneyConnector):
        def cash_in_status(self, reference: str, provider_reference: str | None = None) -> CashInResult | None:
            if reference in broken:
                raise RuntimeError("a bug on this one")
            return super().cash_in_status(reference, provider_reference)

    register(FLAKY)(FlakyOrangeMoney)
    try:
        yield broken
    finally:
        ProviderConnection.objects.filter(connector=FLAKY).update(connector="orange_money")
        unregister(FLAKY)


def test_a_poller_item_that_raises_is_set_aside_and_the_others_settle(side, flaky_orange_money, caplog) -> None:  # type: ignore[no-untyped-def]
    cash_ins = [accept(side, "orange_money", "9902", f"poll-{i}") for i in range(3)]
    for cash_in in cash_ins:
        cash_in_process(cash_in.pk)
    bad = cash_ins[1].transaction
    flaky_orange_money.add(bad.public_id)
    ProviderConnection.objects.filter(connector="orange_money").update(connector=FLAKY)
    CashIn.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))

    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        for pk in cash_ins_due():  # the beat's run: one resolution per due cash-in
            cash_in_resolve(pk)

    bad.refresh_from_db()
    assert bad.set_aside_at is not None and bad.needs_review and "cash_in_resolve" in bad.review_reason
    assert any(getattr(r, "transaction", None) == bad.public_id for r in caplog.records)
    statuses = {c.pk: Transaction.objects.get(pk=c.transaction_id).status for c in cash_ins}
    assert statuses == {cash_ins[0].pk: "succeeded", cash_ins[1].pk: "unknown", cash_ins[2].pk: "succeeded"}
    CashIn.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
    assert cash_ins_due() == []  # the next run does not touch it again
    assert ledger_check().is_ok


def calls_of(txn: Transaction) -> list[tuple[str, str]]:
    rows = list(ProviderCall.objects.filter(transaction=txn).order_by("pk"))
    for row in rows:
        assert row.reference == txn.public_id and row.rail == "mobile_money" and row.mode == "test"
        assert row.completed_at is not None and row.latency_ms is not None
    return [(row.operation, row.outcome) for row in rows]


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("wave", [("payout", "ok")]),
        # Orange Money asks for a token and the PIN's public key first: each attempt is one row.
        ("orange_money", [("token", "ok"), ("public_key", "ok"), ("cash_in", "ok")]),
    ],
)
def test_every_provider_call_of_a_cash_in_leaves_one_completed_row(side, provider, expected) -> None:  # type: ignore[no-untyped-def]
    cash_in = accept(side, provider, "1234", "calls")
    cash_in_process(cash_in.pk)
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert txn.status == "succeeded"
    assert calls_of(txn) == expected
    assert ProviderCall.objects.filter(transaction=txn, http_status=200).count() == len(expected)


@pytest.mark.parametrize(("provider", "operation"), [("wave", "payout"), ("orange_money", "cash_in")])
def test_a_timeout_leaves_an_unknown_row(side, provider, operation) -> None:  # type: ignore[no-untyped-def]
    cash_in = accept(side, provider, "9902", "timeout")
    cash_in_process(cash_in.pk)
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert txn.status == "unknown"
    calls = calls_of(txn)
    assert calls[-1] == (operation, "unknown")
    assert [outcome for op, outcome in calls if op == operation] == ["unknown"]  # one attempt, one row
    row = ProviderCall.objects.filter(transaction=txn, operation=operation).get()
    assert row.http_status is None and row.retryable is True
