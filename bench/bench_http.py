"""The HTTP figures, driven by bench/loadgen.py against the gateway under gunicorn (2 workers x 4
threads, production's authentication cache), each reference served by the same server in the
same run:

- P1  signed cash-ins accepted per second vs the naive endpoint (DRF validation + 2 INSERTs);
- P2  accept latency p50/p99 under an open-loop load at 50% of P1's maximum;
- P9  GET /transactions/{id} and a 50-item list vs the bare health view;
- P10 a 10-minute soak at 50% of P1: p99 drift (last minutes vs first) and memory growth; with
      each minute, what the database did besides (checkpoints, WAL written, autovacuum and
      autoanalyze passes), so that a slow minute can be told from the server's housekeeping.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    bench_partner,
    cash_in_factory,
    checkpoint,
    gateway,
    get_factory,
    naive_factory,
    process_rss_mb,
)
from bench.loadgen import Run, closed_loop, open_loop

CONNECTIONS = 8  # the gateway's 2 x 4 threads, kept busy
P1_SECONDS = 20
P1_TURNS = 4  # P1's reference and cash-ins alternate, P1_SECONDS / P1_TURNS at a time
P2_SECONDS = 30
P9_SECONDS = 10
SOAK_SECONDS = 600
SOAK_WINDOW_SECONDS = 60
SOAK_COMPARED = 3  # windows compared at each end (P10's drift)


def _warm(base: str, factory: Any) -> None:
    closed_loop(base, factory, connections=CONNECTIONS, seconds=3)


def _checked(run: Run, expected: int, what: str) -> Run:
    if run.errors(expected):
        raise RuntimeError(f"{what}: {run.errors(expected)} errors ({run.statuses}, {run.transport_errors} transport)")
    return run


def p1_accept_rate(results: dict[str, Any]) -> dict[str, Any]:
    with gateway() as (base, _):
        who = bench_partner("Bench P1")
        _warm(base, naive_factory(base, "warm"))
        _warm(base, cash_in_factory(base, who, "warm"))
        # the two measured in turns (naive, cash-ins, naive, cash-ins…): a slower or quicker
        # stretch of the machine falls on both alike instead of on one of them
        naive_runs, real_runs = [], []
        for turn in range(P1_TURNS):
            naive_runs.append(closed_loop(base, naive_factory(base, f"p1t{turn}"), connections=CONNECTIONS,
                                          seconds=P1_SECONDS / P1_TURNS))  # fmt: skip
            real_runs.append(closed_loop(base, cash_in_factory(base, who, f"p1t{turn}"), connections=CONNECTIONS,
                                         seconds=P1_SECONDS / P1_TURNS))  # fmt: skip
        naive = _checked(Run.merged(naive_runs), 202, "naive")
        real = _checked(Run.merged(real_runs), 202, "cash-ins")
    ratio = real.rate() / naive.rate()
    return {
        "value": round(real.rate(), 1),
        "unit": "cash-ins/s",
        "reference": round(naive.rate(), 1),
        "reference_name": "naive endpoint (validation + 2 INSERTs), requests/s",
        "ratio": round(ratio, 3),
        "goal": ">= 0.5 (aim 1.0)",
        "met": ratio >= 0.5,
        "cash_in": real.summary(202),
        "naive": naive.summary(202),
        "load": f"closed loop, {CONNECTIONS} keep-alive connections, {P1_SECONDS} s each in {P1_TURNS} turns",
    }


def _p1_max(results: dict[str, Any], base: str, who: Any) -> float:
    """P1's maximum from this run, or a short measurement of it when P1 was not asked for."""
    if "value" in results.get("P1", {}):
        return float(results["P1"]["value"])
    return closed_loop(base, cash_in_factory(base, who, "max"), connections=CONNECTIONS, seconds=8).rate()


def p2_accept_latency(results: dict[str, Any]) -> dict[str, Any]:
    with gateway() as (base, _):
        who = bench_partner("Bench P2")
        _warm(base, cash_in_factory(base, who, "warm"))
        rate = _p1_max(results, base, who) / 2
        run = open_loop(base, cash_in_factory(base, who, "p2"), rate=rate, seconds=P2_SECONDS)
    summary = run.summary(202)
    return {
        "value": summary["p99_ms"],
        "unit": "ms p99",
        "p50_ms": summary["p50_ms"],
        "reference": round(rate, 1),
        "reference_name": "offered load, requests/s (50% of P1's maximum)",
        "ratio": None,
        "goal": "p99 <= 50 ms, 0 errors",
        "met": summary["p99_ms"] <= 50 and summary["errors"] == 0,
        "load": summary,
    }


def _transactions(base: str, who: Any, count: int) -> list[str]:
    """At least ``count`` transactions of ``who``, accepted through the API; their public ids."""
    from ledger.models import Transaction

    mine = Transaction.objects.filter(partner=who.partner)
    while mine.count() < count:
        closed_loop(base, cash_in_factory(base, who, "p9"), connections=4, seconds=2)
    return list(mine.values_list("public_id", flat=True)[:count])


def p9_reads(results: dict[str, Any]) -> dict[str, Any]:
    with gateway() as (base, _):
        who = bench_partner("Bench P9")
        ids = _transactions(base, who, 60)
        factories = {
            "health": get_factory(base, "/health/live"),
            "detail": get_factory(base, f"/api/v1/transactions/{ids[0]}", who),
            "list_50": get_factory(base, "/api/v1/transactions?limit=50", who),
        }
        for factory in factories.values():
            _warm(base, factory)
        runs = {
            name: _checked(closed_loop(base, factory, connections=CONNECTIONS, seconds=P9_SECONDS), 200, name)
            for name, factory in factories.items()
        }
    health = runs["health"].rate()
    ratios = {name: runs[name].rate() / health for name in ("detail", "list_50")}
    worst_p99 = max(runs[name].percentile(99) * 1000 for name in ("detail", "list_50"))
    return {
        "value": round(runs["detail"].rate(), 1),
        "unit": "detail reads/s",
        "list_50_per_s": round(runs["list_50"].rate(), 1),
        "reference": round(health, 1),
        "reference_name": "GET /health/live, requests/s",
        "ratio": round(min(ratios.values()), 3),
        "ratios": {name: round(value, 3) for name, value in ratios.items()},
        "goal": ">= 0.3 each, p99 <= 50 ms",
        "met": min(ratios.values()) >= 0.3 and worst_p99 <= 50,
        "runs": {name: run.summary(200) for name, run in runs.items()},
    }


def _p99_ms(runs: list[Run]) -> float:
    merged = Run(latencies=[latency for run in runs for latency in run.latencies])
    return merged.percentile(99) * 1000


def _db_activity() -> dict[str, Any]:
    """Cumulative counters of the server's housekeeping (PostgreSQL 15's statistics views)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'),"
            " (SELECT json_object_agg(relname, autovacuum_count + autoanalyze_count)"
            "  FROM pg_stat_user_tables WHERE autovacuum_count + autoanalyze_count > 0)"
        )
        checkpoints, wal, passes = cursor.fetchone()
    return {"checkpoints": int(checkpoints), "wal_bytes": int(wal), "passes": passes or {}}


def _db_activity_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    passes = {table: n - before["passes"].get(table, 0) for table, n in after["passes"].items()}
    return {
        "checkpoints": after["checkpoints"] - before["checkpoints"],
        "wal_mb": round((after["wal_bytes"] - before["wal_bytes"]) / 2**20, 1),
        "autovacuum": sorted(table for table, n in passes.items() if n > 0),
    }


def _settle_database() -> float:
    """VACUUM ANALYZE and CHECKPOINT before the soak; how long it took.

    The figures before P10 leave millions of rows behind (P5's batches, P6's items, P1's
    cash-ins): without this, autovacuum works through them during the soak and its passes, not
    the gateway, decide the p99 of whichever minutes they fall in. The soak then measures what
    its own load does to the server, autovacuum and checkpoints included (``windows`` says which
    minutes had which)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    checkpoint()  # after the vacuum's writes (the one before every figure came before them)
    return time.perf_counter() - started


def p10_soak(results: dict[str, Any], *, seconds: int = SOAK_SECONDS) -> dict[str, Any]:
    settled_in = _settle_database()
    with gateway() as (base, process):
        who = bench_partner("Bench P10")
        _warm(base, cash_in_factory(base, who, "warm"))
        rate = _p1_max(results, base, who) / 2
        factory = cash_in_factory(base, who, "p10")
        runs: list[Run] = []
        rss = [process_rss_mb(process.pid)]
        activity = [_db_activity()]
        for index in range(max(2, seconds // SOAK_WINDOW_SECONDS)):
            runs.append(open_loop(base, lambda i, n=index: factory(n * 10**7 + i), rate=rate,
                                  seconds=min(SOAK_WINDOW_SECONDS, seconds)))  # fmt: skip
            rss.append(process_rss_mb(process.pid))
            activity.append(_db_activity())
    windows = [
        {**run.summary(202), "database": _db_activity_between(activity[n], activity[n + 1])}
        for n, run in enumerate(runs)
    ]
    # drift: the p99 of the last SOAK_COMPARED windows against that of the first ones. One minute
    # at this rate is ~2,000 answers, whose p99 is its 20th-worst: one checkpoint's flush or one
    # autovacuum pass in the last minute alone moves it by half; three minutes are three times
    # the evidence (the per-minute p99s stay in ``windows``)
    compared = max(1, min(SOAK_COMPARED, len(runs) // 2))
    first, last = (_p99_ms(runs[:compared]), _p99_ms(runs[-compared:]))
    drift = (last - first) / first if first else 0.0
    growth = (rss[-1] - rss[1]) / rss[1]  # from the end of the first minute: warm, caches full
    errors = sum(int(w["errors"]) for w in windows)
    return {
        "value": round(drift, 3),
        "unit": f"p99 drift (last {compared} minutes vs first {compared})",
        "p99_first_ms": round(first, 2),
        "p99_last_ms": round(last, 2),
        "memory_growth": round(growth, 3),
        "reference": round(rate, 1),
        "reference_name": "offered load, requests/s (50% of P1's maximum)",
        "ratio": None,
        "goal": "p99 drift <= 20%, memory growth <= 10%, 0 errors",
        "met": drift <= 0.2 and growth <= 0.1 and errors == 0,
        "windows": windows,
        "rss_mb": [round(value, 1) for value in rss],
        "settled_before_s": round(settled_in, 1),
    }


FIGURES = {"P1": p1_accept_rate, "P2": p2_accept_latency, "P9": p9_reads, "P10": p10_soak}
