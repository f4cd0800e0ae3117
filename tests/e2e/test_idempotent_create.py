"""100 identical creating POSTs released together against real gunicorn workers: one
transaction, one hold, one outbox row; every answer is the original or 409 in progress; later
replays are byte-identical with the replay header; another body under the key is 422."""

from __future__ import annotations

import threading
import time

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import Hold, OutboxEvent, Transaction
from ledger.selectors import ledger_check
from partners.models import Mode
from partners.services import partner_create
from tests.processes import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"amount": "1500", "currency": "XOF", "client_reference": "order-42"}


def fire_together(client: AddonPartnerClient, key: str, count: int) -> list:  # type: ignore[type-arg]
    barrier = threading.Barrier(count)
    results: list = [None] * count
    now = int(time.time())

    def worker(index: int) -> None:
        barrier.wait()
        # each retry is signed anew (a new t), exactly as a partner's retry would be
        results[index] = client.request("POST", "/t/cash-ins", json=BODY, idempotency_key=key, t=now - index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_identical_creates_make_exactly_one_transaction() -> None:
    created = partner_create(name="Concurrent Pay", mode=Mode.TEST, scopes=["mobile_money.cash_in"])
    other = partner_create(name="Other Pay", mode=Mode.TEST, scopes=["mobile_money.cash_in"])
    # 3 workers x 8 threads: real contention, without exhausting PostgreSQL's connections
    with gunicorn(workers=3, env={"WEB_THREADS": "8"}, app="tests.ledger.wsgi_create") as (base, _):
        client = AddonPartnerClient(base, created.api_key, created.signing_secret, timeout=60)
        results = fire_together(client, "key-100-identical", 100)

        statuses = sorted({r.status for r in results})
        assert set(statuses) <= {202, 409}, statuses
        originals = [r for r in results if r.status == 202]
        assert originals, "at least the first request must be answered"
        assert len({r.content for r in originals}) == 1  # the original or its replay, byte for byte
        for conflict in (r for r in results if r.status == 409):
            assert conflict.body["code"] == "idempotency_key_in_use"

        assert Transaction.objects.filter(partner=created.partner).count() == 1
        txn = Transaction.objects.get(partner=created.partner)
        assert Hold.objects.filter(transaction=txn).count() == 1
        assert OutboxEvent.objects.filter(aggregate_id=txn.public_id).count() == 1

        # signed one second ahead: the 100 above used t = now - i, and when they all finish within
        # the second the same t would make the very same signature, refused as a replay (401)
        replay = client.request(
            "POST", "/t/cash-ins", json=BODY, idempotency_key="key-100-identical", t=int(time.time()) + 1
        )
        assert replay.status == 202 and replay.headers["Idempotent-Replayed"] == "true"
        assert replay.content == originals[0].content

        reused = client.post("/t/cash-ins", json={**BODY, "amount": "1600"}, idempotency_key="key-100-identical")
        assert reused.status == 422 and reused.body["code"] == "idempotency_key_reused"
        assert Transaction.objects.filter(partner=created.partner).count() == 1

        # another partner's identical key is its own
        other_client = AddonPartnerClient(base, other.api_key, other.signing_secret)
        theirs = other_client.post("/t/cash-ins", json=BODY, idempotency_key="key-100-identical")
        assert theirs.status == 202 and "Idempotent-Replayed" not in theirs.headers
        assert theirs.body["id"] != txn.public_id
    assert ledger_check().is_ok
