"""Mobile money (issue 4): P1 cash-in accept rate, P5 bulk ingest, P6 batch dispatch rate.

Every figure is a ratio against a reference measured in the same run on this machine:
- P1: signed, idempotent ``POST /api/v1/mobile-money/cash-ins`` (auth, signature, replay guard,
  rate limit, idempotency claim, transaction + hold + event + outbox, enqueue after commit)
  against a naive endpoint (DRF validation + 2 INSERTs in one transaction) served by the same
  gunicorn (2 workers x 4 threads), driven by the same client threads. Goal >= 1.0.
- P5: ``batch_create`` of 10,000 and 100,000 validated items (time, peak RSS of a fresh process).
  Goals: 10k <= 2 s, 100k <= 20 s.
- P6: a 2,000-item Wave batch dispatched by a real Celery worker against the zero-latency sandbox
  (items per second until every item is final) against the same worker draining 2,000 no-op
  tasks. Goal >= 1.0.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

P1_REQUESTS = 600
P1_THREADS = 8
P6_ITEMS = 2000


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _partner(name: str) -> tuple[Any, str, str]:
    from partners.models import ALL_SCOPES
    from partners.services import partner_create

    created = partner_create(
        name=f"{name} {time.time_ns()}", mode="test", scopes=ALL_SCOPES, rate_limit_per_minute=10**7
    )
    return created.partner, created.api_key, created.signing_secret


def _seed(base_url: str) -> None:
    from partners.demo import DemoContext, run_seeders

    run_seeders(DemoContext(base_url=base_url))


def _drive(send: Any, count: int, threads: int) -> float:
    """Requests per second of ``count`` calls of ``send(i)`` from ``threads`` threads."""
    jobs: queue.Queue[int] = queue.Queue()
    for i in range(count):
        jobs.put(i)
    failures: list[int] = []

    def worker() -> None:
        while True:
            try:
                i = jobs.get_nowait()
            except queue.Empty:
                return
            status = send(i)
            if status != 202:
                failures.append(status)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. HTTP {failures[0]}")
    return count / elapsed


def p1_accept_rate() -> dict[str, Any]:
    import json

    from clients.python.addon_partner_client import AddonPartnerClient
    from tests.processes import gunicorn

    with gunicorn(workers=2, env={"WEB_THREADS": "4"}, app="bench.wsgi") as (base, _):
        _seed(base)
        _, api_key, secret = _partner("Bench P1")
        client = AddonPartnerClient(base, api_key, secret)
        run = time.time_ns()

        def real(i: int) -> int:
            body = {"provider": "wave", "msisdn": "+221770000001", "amount": "1500", "currency": "XOF",
                    "client_reference": f"p1-{run}-{i}"}  # fmt: skip
            return client.post("/api/v1/mobile-money/cash-ins", json=body, idempotency_key=f"p1-{run}-{i}").status

        def naive(i: int) -> int:
            body = json.dumps({"provider": "wave", "msisdn": "+221770000001", "amount": "1500", "currency": "XOF",
                               "client_reference": f"n-{run}-{i}"}).encode()  # fmt: skip
            request = urllib.request.Request(
                base + "/bench/naive-cash-ins", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status

        _drive(naive, 50, P1_THREADS)  # warm both paths
        _drive(real, 50, P1_THREADS)
        naive_rate = _drive(naive, P1_REQUESTS, P1_THREADS)
        real_rate = _drive(real, P1_REQUESTS, P1_THREADS)
    return {
        "requests": P1_REQUESTS,
        "threads": P1_THREADS,
        "cash_in_per_s": round(real_rate, 1),
        "naive_per_s": round(naive_rate, 1),
        "ratio": round(real_rate / naive_rate, 3),
        "goal": ">= 1.0",
    }


# --- P5: bulk ingest, each size in a fresh process (peak RSS belongs to it alone) ----------------


def _ingest(size: int, results: Any) -> None:
    _setup()
    from django.db import transaction

    from mobilemoney.services.batch_ingest import batch_create, validate_items

    class Rollback(Exception):
        pass

    raw = [
        {"msisdn": f"+22177{i % 10_000_000:07d}", "amount": "1000", "currency": "XOF", "client_reference": f"b-{i}"}
        for i in range(size)
    ]
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _seed("http://127.0.0.1:9")
            partner, _, _ = _partner("Bench P5")
            items = []
            for start in range(0, size, 10_000):  # the API caps one request at 10,000 items
                part = raw[start : start + 10_000]
                items += validate_items(part, [f"items[{start + i}]." for i in range(len(part))])
            batch_create(partner=partner, mode="test", provider="wave", items=items)
            elapsed = time.perf_counter() - started
            raise Rollback  # leave the database as it was; nothing is enqueued without a commit
    except Rollback:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put({"items": size, "seconds": round(elapsed, 2), "peak_rss_mb": round(peak / 1024, 1),
                 "rss_growth_mb": round((peak - baseline) / 1024, 1)})  # fmt: skip


def p5_bulk_ingest() -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {}
    for size, goal in ((10_000, 2.0), (100_000, 20.0)):
        results = context.Queue()
        process = context.Process(target=_ingest, args=(size, results))
        process.start()
        figure = results.get(timeout=600)
        process.join(60)
        figure["goal_seconds"] = goal
        out[f"{size}_items"] = figure
    return out


# --- P6: dispatch rate against the zero-latency sandbox vs a no-op drain --------------------------


def _queue_length(name: str) -> int:
    import redis
    from django.conf import settings

    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(name))


def p6_dispatch_rate() -> dict[str, Any]:
    from core.tasks import ping
    from mobilemoney.models import CashIn
    from mobilemoney.services.batch_ingest import batch_create, validate_items
    from tests.processes import celery_worker, gunicorn

    log = Path(tempfile.mkdtemp()) / "worker.log"
    with (
        gunicorn(workers=2, env={"WEB_THREADS": "4", "SANDBOX_LATENCY_MS": "0"}) as (base, _),
        celery_worker(log, queues="bulk,payments,maintenance", concurrency=2),
    ):
        _seed(base)
        # reference: the same worker draining one no-op task per item
        started = time.perf_counter()
        for i in range(P6_ITEMS):
            ping.delay(str(i))
        while _queue_length("maintenance"):
            time.sleep(0.05)
        noop_rate = P6_ITEMS / (time.perf_counter() - started)

        partner, _, _ = _partner("Bench P6")
        raw = [{"msisdn": f"+22177{i:07d}", "amount": "1000", "currency": "XOF", "client_reference": f"d-{i}"}
               for i in range(P6_ITEMS)]  # fmt: skip
        items = validate_items(raw, [f"items[{i}]." for i in range(P6_ITEMS)])
        started = time.perf_counter()
        batch = batch_create(partner=partner, mode="test", provider="wave", items=items)
        final = ("succeeded", "failed")
        deadline = time.monotonic() + 600
        while CashIn.objects.filter(batch=batch).exclude(transaction__status__in=final).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("batch did not finish in 10 minutes")
            time.sleep(0.1)
        dispatch_rate = P6_ITEMS / (time.perf_counter() - started)
    return {
        "items": P6_ITEMS,
        "dispatch_items_per_s": round(dispatch_rate, 1),
        "noop_tasks_per_s": round(noop_rate, 1),
        "ratio": round(dispatch_rate / noop_rate, 3),
        "goal": ">= 1.0",
    }


def run() -> dict[str, Any]:
    _setup()
    return {
        "P1_cash_in_accept": p1_accept_rate(),
        "P5_bulk_ingest": p5_bulk_ingest(),
        "P6_dispatch": p6_dispatch_rate(),
    }
