"""Per-partner limits over the real API (partners/limits.py): a cash-in over the limit per
transaction, or one that would take the day's total over the daily limit, is 422
``limit_exceeded`` and creates nothing; 50 racing cash-ins never take the day past its limit."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from ledger.models import Hold, Transaction
from mobilemoney.models import CashIn, CashInBatch
from partners.models import PartnerDailyUsage, Rail
from partners.services import partner_limit_set
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner

pytestmark = pytest.mark.django_db(transaction=True)

CASH_INS = "/api/v1/mobile-money/cash-ins"


@pytest.fixture
def side(live_server):  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    side = make_partner(live_server.url)
    partner_limit_set(
        partner=side.partner,
        mode="test",
        rail=Rail.MOBILE_MONEY,
        max_per_transaction_minor=5_000,
        max_per_day_minor=10_000,
    )
    return side


def post(side, amount: str, n: int):  # type: ignore[no-untyped-def]
    body = cash_in_body("wave", suffix=f"{n:04d}", amount=amount)
    return side.client.post(CASH_INS, json=body, idempotency_key=f"k-{n}")


def test_a_cash_in_over_the_limit_per_transaction_is_422_and_creates_nothing(side) -> None:  # type: ignore[no-untyped-def]
    money = side.money()
    status, _, answer = post(side, "5001", 1)
    assert (status, answer["code"], answer["limit"], answer["limit_amount"]) == (
        422, "limit_exceeded", "per_transaction", "5000",
    )  # fmt: skip
    assert side.money() == money
    assert Transaction.objects.count() == CashIn.objects.count() == Hold.objects.count() == 0
    assert post(side, "5000", 2).status == 202  # the limit itself is allowed


def test_a_cash_in_crossing_the_daily_limit_is_422_and_creates_nothing(side) -> None:  # type: ignore[no-untyped-def]
    assert [post(side, "4000", n).status for n in (1, 2)] == [202, 202]
    money = side.money()
    status, _, answer = post(side, "2001", 3)
    assert (status, answer["code"], answer["limit"], answer["limit_amount"]) == (
        422,
        "limit_exceeded",
        "per_day",
        "10000",
    )
    assert side.money() == money
    assert Transaction.objects.count() == 2
    assert PartnerDailyUsage.objects.get().used_minor == 8_000  # the refusal counted nothing
    assert post(side, "2000", 4).status == 202  # up to the limit exactly


def test_a_batch_is_held_to_both_limits_whole(side) -> None:  # type: ignore[no-untyped-def]
    def batch(amounts: list[str], key: str):  # type: ignore[no-untyped-def]
        items = [
            {"msisdn": f"+22177000{n:04d}", "amount": a, "currency": "XOF", "client_reference": f"{key}-{n}"}
            for n, a in enumerate(amounts)
        ]
        return side.client.post(
            "/api/v1/mobile-money/cash-in-batches", json={"provider": "wave", "items": items}, idempotency_key=key
        )

    money = side.money()
    over_one = batch(["100", "5001"], "b-1")
    over_day = batch(["5000", "5000", "1"], "b-2")
    assert [(r.status, r.body["code"], r.body["limit"]) for r in (over_one, over_day)] == [
        (422, "limit_exceeded", "per_transaction"), (422, "limit_exceeded", "per_day"),
    ]  # fmt: skip
    assert side.money() == money and CashInBatch.objects.count() == Transaction.objects.count() == 0
    assert batch(["5000", "5000"], "b-3").status == 202


def test_fifty_racing_cash_ins_never_cross_the_daily_limit(side) -> None:  # type: ignore[no-untyped-def]
    """50 threads post at once (released by a barrier) against the threaded live server: 10 fit
    the daily limit of 10,000 at 1,000 each; the other 40 are refused and create nothing."""
    threads, barrier, lock = 50, threading.Barrier(50), threading.Lock()
    outcomes: Counter[str] = Counter()
    balance, held = side.money()

    def one(n: int) -> None:
        barrier.wait(timeout=30)
        body = cash_in_body("wave", suffix=f"{n:04d}", amount="1000")
        for attempt in range(10):  # the live server's small listen backlog resets some connects
            try:  # a retry signs again (another t) under the same Idempotency-Key: safe
                t = int(time.time()) - attempt
                status, _, answer = side.client.request("POST", CASH_INS, json=body, idempotency_key=f"k-{n}", t=t)
                break
            except ConnectionError:
                time.sleep(0.05 * (attempt + 1))
        with lock:
            outcomes[str(status) if status == 202 else f"{status} {answer.get('code')}"] += 1

    workers = [threading.Thread(target=one, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert outcomes == Counter({"202": 10, "422 limit_exceeded": 40})
    assert Transaction.objects.count() == CashIn.objects.count() == 10
    assert side.money() == (balance, held + 10_000)
    assert PartnerDailyUsage.objects.get().used_minor == 10_000
