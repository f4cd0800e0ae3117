"""Accepting a 10,000-transaction pain.001 through the service (parse + create) vs parsing alone.

``banking.services.batch_receive`` is what ``POST /api/v1/banking/transfer-batches`` calls with
the request body: streaming XSD-validated parse, the MsgId check, then the batch, 10,000 items,
10,000 ``bank_transfer_in`` transactions, their events and outbox rows in bulk inserts. Each phase
runs in a fresh spawned process (so ``ru_maxrss``, a process's high-water mark, belongs to that
phase alone; the Django-loaded baseline is reported with it), first timed without tracing, then
again under tracemalloc for the peak of Python allocations. The service runs inside a
transaction that is rolled back: the database is left as it was and nothing is enqueued.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.common import in_fresh_process, setup

TRANSACTIONS = 10_000


def _body() -> bytes:
    from tests.banking.builders import pain001_v03

    return pain001_v03(TRANSACTIONS, msg_id="BENCH-10K")


def _parse(body: bytes) -> None:
    from banking.iso20022 import parse_pain001_xml

    message = parse_pain001_xml(body, max_bytes=len(body) + 1)
    assert message.nb_of_txs == TRANSACTIONS


class _Rollback(Exception):
    pass


def _receive(body: bytes) -> None:
    from django.db import transaction

    from banking.demo import banking_sandbox_connect
    from banking.services import batch_receive
    from partners.services import partner_create

    try:
        with transaction.atomic():
            banking_sandbox_connect(sandbox_url="http://127.0.0.1:9/sandbox/", callback_url="http://127.0.0.1:9/cb")
            partner = partner_create(name="Bench bank", mode="test", scopes=["banking.transfers"]).partner
            batch = batch_receive(partner=partner, mode="test", body=body, content_type="application/xml")
            assert batch.items.count() == TRANSACTIONS
            raise _Rollback
    except _Rollback:
        pass


def _measure(results: Any, phase: str) -> None:
    setup()
    body = _body()
    work: Callable[[bytes], None] = _parse if phase == "parse" else _receive
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    work(body)
    seconds = time.perf_counter() - started
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        work(body)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    results.put(
        {
            "seconds": round(seconds, 3),
            "tracemalloc_peak_mb": round(peak / 1e6, 1),
            "ru_maxrss_mb": round(maxrss_kb / 1024, 1),
            "ru_maxrss_growth_mb": round((maxrss_kb - baseline_kb) / 1024, 1),
            "body_mb": round(len(body) / 1e6, 2),
        }
    )


def run() -> dict[str, Any]:
    parse = in_fresh_process(_measure, "parse")
    service = in_fresh_process(_measure, "service")
    return {
        "transactions": TRANSACTIONS,
        "parse_only": parse,
        "service_parse_and_create": service,
        "ratio_time": round(service["seconds"] / parse["seconds"], 2),
        "ratio_tracemalloc_peak": round(service["tracemalloc_peak_mb"] / parse["tracemalloc_peak_mb"], 2),
        "ratio_ru_maxrss_growth": round(service["ru_maxrss_growth_mb"] / max(parse["ru_maxrss_growth_mb"], 0.1), 2),
    }
