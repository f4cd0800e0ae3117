"""POST/GET /api/v1/mobile-money/cash-in-batches over real HTTP; chunks worked in-process by the
real task code: validation of every item before anything is created, the prefunding check, a
10,000-item ingest, Wave's batch API and Orange Money's per-item path, progress, items, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from ledger.models import Account, Hold, OutboxEvent, Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import BatchChunk, CashIn, CashInBatch
from mobilemoney.services.batch_work import bulk_sweep, chunk_work
from mobilemoney.services.cash_ins import cash_in_resolve, cash_ins_due
from sandbox.models import SimEffect
from tests.mobilemoney.api_support import EFFECTS, connect_providers, make_partner

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/api/v1/mobile-money/cash-in-batches"


@pytest.fixture
def side(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    connect_providers(live_server.url)
    return make_partner(live_server.url)


def item(i: int, suffix: str | None = None, amount: str = "1000") -> dict[str, str]:
    return {
        "msisdn": f"+2217700{(suffix or f'{i % 9000 + 1000:04d}'):0>5}"[-13:],
        "amount": amount,
        "currency": "XOF",
        "client_reference": f"pay-{i}",
    }


def nothing_created() -> bool:
    return not (CashInBatch.objects.exists() or CashIn.objects.exists() or Transaction.objects.exists())


def test_every_item_error_is_reported_at_once_and_nothing_is_created(side) -> None:  # type: ignore[no-untyped-def]
    items = [item(i) for i in range(6)]
    items[1]["msisdn"] = "12345"
    items[3]["amount"] = "10.5"
    items[4]["amount"] = 1000  # type: ignore[assignment]
    items[5]["client_reference"] = "pay-0"
    answer = side.client.post(PATH, json={"provider": "wave", "items": items}, idempotency_key="b1")
    assert answer.status == 400 and answer.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in answer.body["errors"]] == [
        "items[1].msisdn", "items[3].amount", "items[4].amount", "items[5].client_reference",
    ]  # fmt: skip
    assert nothing_created()


def test_csv_errors_name_the_line(side) -> None:  # type: ignore[no-untyped-def]
    text = (
        "msisdn,amount,currency,client_reference\n+221770001234,1000,XOF,a\n+22177,1000,XOF,b\n+221770001235,-5,XOF,c\n"
    )
    answer = side.client.post(
        PATH + "?provider=orange_money", data=text, headers={"Content-Type": "text/csv"}, idempotency_key="c1"
    )
    assert answer.status == 400
    assert [e["field"] for e in answer.body["errors"]] == ["line 3.msisdn", "line 4.amount"]
    assert nothing_created()


def test_too_many_items_and_unfunded_batches_are_refused_whole(side) -> None:  # type: ignore[no-untyped-def]
    answer = side.client.post(
        PATH, json={"provider": "wave", "items": [item(i) for i in range(10_001)]}, idempotency_key="big"
    )
    assert answer.status == 413 and answer.body["code"] == "payload_too_large"
    before = side.money()
    rich = [item(i, amount="300000000") for i in range(4)]  # 1.2e9 XOF > the 1e9 test float
    answer = side.client.post(PATH, json={"provider": "wave", "items": rich}, idempotency_key="rich")
    assert answer.status == 422 and answer.body["code"] == "insufficient_funds"
    assert nothing_created() and side.money() == before
    assert side.client.post(PATH, json={"provider": "mtn", "items": [item(1)]}, idempotency_key="p").status == 400


def test_ten_thousand_items_are_accepted_in_one_request_with_one_hold_each(side) -> None:  # type: ignore[no-untyped-def]
    # Speed is measured by bench/bench_mobilemoney.py (P5), not asserted here.
    items = [item(i) for i in range(10_000)]
    balance, held = side.money()
    answer = side.client.post(PATH, json={"provider": "orange_money", "items": items}, idempotency_key="10k")
    assert answer.status == 202, answer.body
    assert answer.body["item_count"] == 10_000 and answer.body["total"] == "10000000"
    assert answer.body["progress"]["pending"] == {"count": 10_000, "amount": "10000000"}
    assert side.money() == (balance, held + 10_000_000)
    assert Hold.objects.filter(status="placed").count() == 10_000
    assert OutboxEvent.objects.filter(type="transaction.created").count() == 10_000
    assert BatchChunk.objects.count() == 40
    assert ledger_check().is_ok


def run_chunks(batch: CashInBatch) -> None:
    for _ in range(10):
        for chunk in BatchChunk.objects.filter(batch=batch).exclude(status="done"):
            BatchChunk.objects.filter(pk=chunk.pk).update(lease_until=None)
            chunk_work(chunk.pk)
        if not BatchChunk.objects.filter(batch=batch).exclude(status="done").exists():
            return


def resolve_due() -> None:
    """The cash-in poller's work, now: every in-flight item polled at once."""
    CashIn.objects.filter(next_poll_at__isnull=False).update(next_poll_at=timezone.now())
    for pk in cash_ins_due():
        cash_in_resolve(pk)


SUFFIXES = ["1234", "9901", "9902", "9903", "9904", "9905", "1235", "1236", "1237", "1238"]


@pytest.mark.parametrize(("provider", "size"), [("wave", 300), ("orange_money", 40)])
def test_mixed_batch_completes_with_exact_counts_totals_and_results(side, provider, size) -> None:  # type: ignore[no-untyped-def]
    """Every sandbox outcome inside a batch: 9901/9904 fail, 9902/9903 (lost answers for Orange
    Money's per-item calls) end succeeded through the poller, 9905 succeeds."""
    suffixes = SUFFIXES * (size // len(SUFFIXES))  # Wave: two chunks
    items = [item(i, suffixes[i], amount=str(1000 + i)) for i in range(size)]
    balance, held = side.money()
    answer = side.client.post(PATH, json={"provider": provider, "items": items}, idempotency_key="mixed")
    batch = CashInBatch.objects.get(public_id=answer.body["id"])
    run_chunks(batch)
    for _ in range(3):
        resolve_due()
    bulk_sweep()
    _, _, body = side.client.get(f"{PATH}/{batch.public_id}")
    ok = [1000 + i for i in range(size) if suffixes[i] not in ("9901", "9904")]
    failed = [1000 + i for i in range(size) if suffixes[i] in ("9901", "9904")]
    assert body["status"] == "completed"
    assert body["progress"]["succeeded"] == {"count": len(ok), "amount": str(sum(ok))}
    assert body["progress"]["failed"] == {"count": len(failed), "amount": str(sum(failed))}
    assert body["progress"]["pending"]["count"] == body["progress"]["processing"]["count"] == 0
    assert side.money() == (balance - sum(ok), held)
    paid = SimEffect.objects.filter(provider=provider, effect=EFFECTS[provider])
    assert paid.count() == len(ok) and len(set(paid.values_list("reference", flat=True))) == len(ok)
    assert ledger_check().is_ok

    status, _, page = side.client.get(f"{PATH}/{batch.public_id}/items", params={"status": "failed", "limit": 20})
    assert status == 200 and len(page["data"]) == min(20, len(failed)) and page["has_more"] is (len(failed) > 20)
    assert {row["failure_code"] for row in page["data"]} == {"provider_rejected", "provider_insufficient_funds"}
    result = side.client.get(f"{PATH}/{batch.public_id}/items?format=csv")
    assert result.status == 200 and result.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(result.body if isinstance(result.body, str) else result.body.decode())))
    assert len(rows) == size and rows[1]["status"] == "failed" and rows[1]["failure_code"] == "provider_rejected"
    assert {row["status"] for row in rows[2:4] + rows[5:6]} == {"succeeded"}  # 9902, 9903, 9905
    assert rows[0]["client_reference"] == "pay-0" and rows[0]["status"] == "succeeded"


def test_a_repeated_chunk_never_pays_twice(side) -> None:  # type: ignore[no-untyped-def]
    items = [item(i, amount="500") for i in range(20)]
    answer = side.client.post(PATH, json={"provider": "wave", "items": items}, idempotency_key="twice")
    batch = CashInBatch.objects.get(public_id=answer.body["id"])
    chunk = BatchChunk.objects.get(batch=batch)
    chunk_work(chunk.pk)
    BatchChunk.objects.filter(pk=chunk.pk).update(status="pending", provider_batch_id="", lease_until=None)
    chunk_work(chunk.pk)  # resubmitted as if the first worker died before recording the batch id
    run_chunks(batch)
    assert SimEffect.objects.filter(provider="wave", effect="payout").count() == 20
    assert Account.objects.get(pk=side.account().pk).held_minor == 0


def test_retry_of_failed_items_keeps_lines_and_client_references(side) -> None:  # type: ignore[no-untyped-def]
    items = [item(0, "1234"), item(1, "9901"), item(2, "1235"), item(3, "9904")]
    balance, held = side.money()
    answer = side.client.post(PATH, json={"provider": "orange_money", "items": items}, idempotency_key="r0")
    batch = CashInBatch.objects.get(public_id=answer.body["id"])
    run_chunks(batch)
    bulk_sweep()
    first_failed = set(CashIn.objects.filter(batch=batch, transaction__status="failed").values_list("pk", flat=True))
    retry = side.client.post(f"{PATH}/{batch.public_id}/retry", idempotency_key="r1")
    assert retry.status == 202 and retry.body["retried"] == 2 and retry.body["status"] == "processing"
    assert side.money() == (balance - 2000, held + 2000)  # the retried items are held again
    run_chunks(batch)
    bulk_sweep()
    _, _, body = side.client.get(f"{PATH}/{batch.public_id}")
    assert body["status"] == "completed"
    assert body["progress"]["succeeded"]["count"] == 2 and body["progress"]["failed"]["count"] == 2
    retried = CashIn.objects.filter(retry_of__in=first_failed).select_related("transaction", "retry_of__transaction")
    assert sorted((c.line, c.transaction.client_reference) for c in retried) == [(1, "pay-1"), (3, "pay-3")]
    assert all(c.transaction.public_id != c.retry_of.transaction.public_id for c in retried)  # type: ignore[union-attr]
    assert side.money() == (balance - 2000, held)
    assert ledger_check().is_ok
