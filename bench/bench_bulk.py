"""P5, bulk ingest (salary batches): a 10,000-item bulk cash-in end to end through the API (signed
POST to the 202, on the gateway under gunicorn, the peak resident memory of the worker that
took it), and 100,000 items through ``batch_create`` in a fresh process (the API takes at most
10,000 items a request, so a 100,000-line salary file is ten requests; this measures the
service on the whole file at once), and a 100,000-transaction pain.001 through
``banking.services.batch_receive`` (parse and create, bench_pain001.py, in a fresh process).
Goals: 10,000 items <= 2 s, 100,000 <= 20 s (both 100,000 figures), peak <= 300 MB.

The 100,000 figures roll back (the database as it was), after running the checks a commit would
run (``check_deferred_constraints``: Django's foreign keys are deferred to the commit, 100,000
rows of five tables are about a million of them); each also gives its process's CPU seconds,
which a busy machine changes less than the wall time.
"""

from __future__ import annotations

import http.client
import json
import resource
import time
from typing import Any

from bench.bench_pain001 import check_deferred_constraints
from bench.bench_pain001 import measure as pain001_measure
from bench.common import bench_partner, gateway, in_fresh_process, seed, setup
from mobilemoney.validation import MAX_ITEMS

PEAK_GOAL_MB = 300
BATCHES = "/api/v1/mobile-money/cash-in-batches"


def _items(size: int, tag: str) -> list[dict[str, str]]:
    return [
        {"msisdn": f"+22177{i % 10_000_000:07d}", "amount": "1000", "currency": "XOF", "client_reference": f"{tag}-{i}"}
        for i in range(size)
    ]


def _peak_of_workers(pid: int) -> float:
    """The highest VmHWM (peak resident set) among gunicorn's workers, in MB."""
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        workers = [int(child) for child in children.read().split()]
    peaks = []
    for worker in workers:
        with open(f"/proc/{worker}/status") as status:
            peaks += [int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")]
    return max(peaks)


def _through_the_api(size: int) -> dict[str, Any]:
    from core.signing import signature_header

    with gateway() as (base, process):
        who = bench_partner("Bench P5")
        host, port = base.split("://")[1].split(":")
        before = _peak_of_workers(process.pid)
        body = json.dumps({"provider": "wave", "items": _items(size, f"p5-{time.time_ns()}")}).encode()
        headers = {
            "Authorization": f"Bearer {who.api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"p5-{time.time_ns()}",
            "X-Signature": signature_header(who.secret, "POST", BATCHES, body),
        }
        connection = http.client.HTTPConnection(host, int(port), timeout=600)
        started = time.perf_counter()
        connection.request("POST", BATCHES, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        seconds = time.perf_counter() - started
        if answer.status != 202:
            raise RuntimeError(f"the batch was answered {answer.status}")
        peak = _peak_of_workers(process.pid)
    return {"items": size, "seconds": round(seconds, 2), "worker_peak_rss_mb": round(peak, 1),
            "worker_peak_before_mb": round(before, 1)}  # fmt: skip


class _Rollback(Exception):
    pass


def _service(results: Any, size: int) -> None:
    setup()
    from django.db import transaction

    from mobilemoney.services.batch_ingest import batch_create, validate_items

    raw = _items(size, "p5s")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        with transaction.atomic():
            seed("http://127.0.0.1:9")
            who = bench_partner("Bench P5 service")
            items = []
            for start in range(0, size, MAX_ITEMS):
                part = raw[start : start + MAX_ITEMS]
                items += validate_items(part, [f"items[{start + i}]." for i in range(len(part))])
            batch_create(partner=who.partner, mode="test", provider="wave", items=items)
            check_deferred_constraints()
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
            raise _Rollback  # the database as it was; nothing enqueued without a commit
    except _Rollback:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {"items": size, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2)}
    results.put({**figures, "peak_rss_mb": round(peak / 1024, 1), "rss_growth_mb": round((peak - baseline) / 1024, 1)})


def p5_bulk_ingest(results: dict[str, Any]) -> dict[str, Any]:
    api = _through_the_api(10_000)
    service = in_fresh_process(_service, 100_000)
    pain001 = pain001_measure("service", 100_000, traced=False)
    peak = max(api["worker_peak_rss_mb"], service["peak_rss_mb"], pain001["ru_maxrss_mb"])
    return {
        "value": api["seconds"],
        "unit": "s for 10,000 items through the API",
        "reference": service["seconds"],
        "reference_name": "s for 100,000 items through batch_create (one process)",
        "ratio": None,
        "goal": f"10,000 <= 2 s, 100,000 <= 20 s (cash-ins and pain.001), peak <= {PEAK_GOAL_MB} MB",
        "met": api["seconds"] <= 2 and max(service["seconds"], pain001["seconds"]) <= 20 and peak <= PEAK_GOAL_MB,
        "api_10000": api,
        "service_100000": service,
        "pain001_100000": pain001,
        "peak_rss_mb": peak,
    }


FIGURES = {"P5": p5_bulk_ingest}
