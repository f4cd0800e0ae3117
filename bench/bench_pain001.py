"""Accepting a pain.001 through the service (parse + create) vs parsing alone, at 10,000
transactions (this module's run) and at 100,000 (part of P5, bench_bulk.py: a national salary
file, goals 20 s and 300 MB).

``banking.services.batch_receive`` is what ``POST /api/v1/banking/transfer-batches`` calls with
the request body: streaming XSD-validated parse, the MsgId check, then the batch, its items,
one ``bank_transfer_in`` transaction per item, their holds, events and outbox rows written with
COPY (ledger/services/bulk.py). Each phase runs in a fresh spawned process (so ``ru_maxrss``, a
process's high-water mark, belongs to that phase alone; the Django-loaded baseline is reported
with it), first timed without tracing, then — unless ``traced`` is off — again under tracemalloc
for the peak of Python allocations. The service runs inside a transaction that is rolled back:
the database is left as it was and nothing is enqueued. A 100,000-transaction file is about
38 MB, above the default ``BANKING_BATCH_MAX_BYTES`` (16 MiB): the measuring process raises it.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import in_fresh_process, setup

TRANSACTIONS = 10_000


def _body_file(transactions: int) -> str:
    """The message written to a file by the calling process: the measured process only reads it,
    as a web worker only holds the request body (building it takes more memory than that)."""
    from tests.banking.builders import pain001_v03

    with tempfile.NamedTemporaryFile(prefix="bench-pain001-", suffix=".xml", delete=False) as out:
        out.write(pain001_v03(transactions, msg_id=f"BENCH-{transactions}-{time.time_ns()}"))
    return out.name


def _parse(body: bytes, transactions: int) -> None:
    from banking.iso20022 import parse_pain001_xml

    message = parse_pain001_xml(body, max_bytes=len(body) + 1)
    assert message.nb_of_txs == transactions


class _Rollback(Exception):
    pass


def check_deferred_constraints() -> None:
    """Run now the checks a COMMIT would run (Django's foreign keys are deferred): a measure that
    rolls back must still pay for them, as a real intake does when it commits."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _receive(body: bytes, transactions: int) -> None:
    from django.db import transaction

    from banking.demo import banking_sandbox_connect
    from banking.services import batch_receive
    from partners.services import partner_create

    try:
        with transaction.atomic():
            banking_sandbox_connect(sandbox_url="http://127.0.0.1:9/sandbox/", callback_url="http://127.0.0.1:9/cb")
            partner = partner_create(name="Bench bank", mode="test", scopes=["banking.transfers"]).partner
            batch = batch_receive(partner=partner, mode="test", body=body, content_type="application/xml")
            check_deferred_constraints()
            assert batch.items.count() == transactions
            raise _Rollback
    except _Rollback:
        pass


def _measure(results: Any, phase: str, path: str, transactions: int, traced: bool) -> None:
    os.environ["BANKING_BATCH_MAX_BYTES"] = str(64 * 1024 * 1024)
    setup()
    body = Path(path).read_bytes()
    work: Callable[[bytes, int], None] = _parse if phase == "parse" else _receive
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    work(body, transactions)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "transactions": transactions,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),  # this process's own CPU time (not the database's)
        "ru_maxrss_mb": round(maxrss_kb / 1024, 1),
        "ru_maxrss_growth_mb": round((maxrss_kb - baseline_kb) / 1024, 1),
        "body_mb": round(len(body) / 1e6, 2),
    }
    if traced:
        tracemalloc.start()
        try:
            work(body, transactions)
            figures["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
        finally:
            tracemalloc.stop()
    results.put(figures)


def measure(phase: str, transactions: int, *, traced: bool = True) -> dict[str, Any]:
    """One phase (``parse`` or ``service``) on a generated file of ``transactions``, in a fresh process."""
    path = _body_file(transactions)
    try:
        return in_fresh_process(_measure, phase, path, transactions, traced)
    finally:
        os.unlink(path)


def run() -> dict[str, Any]:
    parse = measure("parse", TRANSACTIONS)
    service = measure("service", TRANSACTIONS)
    return {
        "transactions": TRANSACTIONS,
        "parse_only": parse,
        "service_parse_and_create": service,
        "ratio_time": round(service["seconds"] / parse["seconds"], 2),
        "ratio_tracemalloc_peak": round(service["tracemalloc_peak_mb"] / parse["tracemalloc_peak_mb"], 2),
        "ratio_ru_maxrss_growth": round(service["ru_maxrss_growth_mb"] / max(parse["ru_maxrss_growth_mb"], 0.1), 2),
    }
