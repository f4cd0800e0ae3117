"""The ledger's figures, against pgbench's TPC-B on the same PostgreSQL in the same run:

- P3  balanced postings per second (``posting_create``: row locks in a fixed order, entries with
      their running balances, balances updated) from 4 processes on separate accounts, vs
      ``pgbench -c 4 -j 2`` transactions per second (a TPC-B transaction is one debit: three
      UPDATEs, a SELECT and an INSERT). Goal >= 0.5x.
- P4  the same 4 processes all crediting ONE hot account (every posting waits for its row
      lock), goal >= 0.25x P3, and the hot account's final balance exactly what was posted.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from typing import Any

from bench.common import checkpoint, setup

PROCESSES = 4
SECONDS = 15
PGBENCH_SCALE = 4  # one branch per client: no contention beyond TPC-B's own


def _accounts(tag: str, count: int) -> list[int]:
    from ledger.models import AccountKind
    from ledger.services import account_get_or_create_system

    return [
        account_get_or_create_system(kind=AccountKind.SUSPENSE, mode="test", currency="XOF", provider=f"{tag}-{n}").pk
        for n in range(count)
    ]


def _backend_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) of a PostgreSQL backend, when the server runs on this machine
    and its processes can be read (diagnostics only; None otherwise)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _post(results: Any, start: Any, source: int, target: int, seconds: float) -> None:
    """Post 1 XOF from ``source`` to ``target`` in a loop for ``seconds``; how many, and the total.

    Every process waits at ``start`` once Django is set up and its connection open, so the four
    windows coincide (a process still importing Django would otherwise take the CPU of the others').
    Diagnostics: this process's CPU and its backend's over the window (outside the loop).
    """
    setup()
    from ledger.models import Account
    from ledger.services.postings import posting_create

    accounts = {a.pk: a for a in Account.objects.filter(pk__in=[source, target])}
    backend = _backend_pid()
    start.wait(timeout=120)
    server_before, client_before = _backend_cpu_seconds(backend), time.process_time()
    count, stop_at = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        posting_create(lines=[(accounts[source], -1), (accounts[target], 1)], description="bench")
        count += 1
    server_after, client_after = _backend_cpu_seconds(backend), time.process_time()
    server = None if server_before is None or server_after is None else server_after - server_before
    results.put(
        {"postings": count, "seconds": seconds, "server_cpu_s": server, "client_cpu_s": client_after - client_before}
    )


LEDGER_BEFORE = 5_000  # postings the ledger holds before P3 starts, if it holds fewer


def _populate_ledger() -> None:
    """A ledger with postings in it, as ``pgbench -i`` fills its tables before TPC-B. On an empty
    ``ledger_posting`` (a fresh bench database: P1 and P2 post nothing), the plans PostgreSQL keeps
    per connection for the foreign-key checks of each entry were made for an empty table, sequential
    scans, and each posting then read every posting written before it in the run: 0.95 ms of server
    CPU per posting against 0.35 ms on a ledger that already held postings."""
    from ledger.models import Account, Posting
    from ledger.services.postings import posting_create

    missing = LEDGER_BEFORE - Posting.objects.count()
    if missing > 0:
        source, target = (Account.objects.get(pk=pk) for pk in _accounts(f"p3-fill-{time.time_ns()}", 2))
        for _ in range(missing):
            posting_create(lines=[(source, -1), (target, 1)], description="bench fill")


def _vacuum_ledger() -> None:
    """VACUUM ANALYZE the tables a posting writes, as ``pgbench -i`` does its own before TPC-B: both
    sides start from clean tables (earlier figures leave dead account rows that every lock and
    update would otherwise walk through, and autovacuum may be behind, or off as on the bench machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ledger_account, ledger_posting, ledger_ledgerentry")


def _per_posting_ms(total_s: float | None, postings: int) -> float | None:
    return None if total_s is None or not postings else round(1000 * total_s / postings, 3)


def _run_postings(pairs: list[tuple[int, int]]) -> tuple[int, dict[str, float | None]]:
    """Postings made by one process per pair, and the CPU they cost per posting (diagnostics)."""
    import multiprocessing

    _populate_ledger()
    _vacuum_ledger()
    checkpoint()  # as before pgbench's run: both sides start right after a checkpoint

    context = multiprocessing.get_context("spawn")
    queue, start = context.Queue(), context.Barrier(len(pairs))
    processes = [context.Process(target=_post, args=(queue, start, s, t, SECONDS)) for s, t in pairs]
    for process in processes:
        process.start()
    done = [queue.get(timeout=SECONDS + 120) for _ in processes]
    for process in processes:
        process.join(60)
    postings = sum(d["postings"] for d in done)
    servers = [d["server_cpu_s"] for d in done]
    cpu = {
        "server_cpu_ms_per_posting": _per_posting_ms(None if None in servers else sum(servers), postings),
        "client_cpu_ms_per_posting": _per_posting_ms(sum(d["client_cpu_s"] for d in done), postings),
    }
    return postings, cpu


def _pgbench_backends_cpu(database: str, pgbench: subprocess.Popen[str]) -> tuple[float, float] | None:
    """CPU seconds of pgbench's backends and the seconds over which they were read, while it runs
    (diagnostics: read every 0.2 s from when all its clients are connected to their last reading
    before they leave; None if the server's processes cannot be read from here)."""
    from django.db import connection

    first: dict[int, float] = {}
    last: dict[int, float] = {}
    started = ended = 0.0
    while pgbench.poll() is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'pgbench'", [database]
            )
            pids = [row[0] for row in cursor.fetchall()]
        readings = {pid: _backend_cpu_seconds(pid) for pid in pids}
        if pids and all(value is None for value in readings.values()):
            return None  # the server's processes are not readable from here
        complete = {pid: value for pid, value in readings.items() if value is not None}
        if not first:
            if len(complete) == PROCESSES:
                first, started = complete, time.perf_counter()
        elif set(first) <= set(complete):
            last, ended = complete, time.perf_counter()
        time.sleep(0.2)
    if not first or not last:
        return None
    return sum(last[pid] - first[pid] for pid in first), ended - started


def _pgbench_tps() -> tuple[float, float | None]:
    """pgbench's TPC-B transactions per second, and its backends' CPU ms per transaction (diagnostics)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    conn = ["-h", str(db["HOST"]), "-p", str(db["PORT"]), "-U", str(db["USER"])]
    pgbench_db = f"{db['NAME']}_pgbench"  # next to the bench's own database: two runs never share it
    subprocess.run(["dropdb", *conn, "--if-exists", pgbench_db], check=True)
    subprocess.run(["createdb", *conn, pgbench_db], check=True)
    try:
        subprocess.run(["pgbench", *conn, "-i", "-q", "-s", str(PGBENCH_SCALE), pgbench_db], check=True,
                       capture_output=True)  # fmt: skip
        checkpoint()  # as before the postings: both sides start right after a checkpoint
        with subprocess.Popen(
            ["pgbench", *conn, "-n", "-c", str(PROCESSES), "-j", "2", "-T", str(SECONDS), pgbench_db],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as pgbench:
            backends = _pgbench_backends_cpu(pgbench_db, pgbench)
            out, err = pgbench.communicate()
        if pgbench.returncode:
            raise RuntimeError(f"pgbench failed: {err}")
    finally:
        subprocess.run(["dropdb", *conn, "--if-exists", pgbench_db], check=False)
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench said: {out}")
    tps = float(match.group(1))
    # the backends' CPU over the seconds it was read, per transaction at the run's rate
    per_txn = None if backends is None or not backends[1] else round(1000 * backends[0] / (tps * backends[1]), 3)
    return tps, per_txn


def _one_posting_statements(source: int, target: int) -> int:
    """How many statements one posting sends (TPC-B's transaction sends seven with BEGIN and END)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger.models import Account
    from ledger.services.postings import posting_create

    accounts = Account.objects.in_bulk([source, target])
    with CaptureQueriesContext(connection) as context:
        posting_create(lines=[(accounts[source], -1), (accounts[target], 1)], description="bench")
    return len(context.captured_queries)


def _synchronous_commit() -> str:
    """The server's setting, which both sides pay at every commit (pgbench takes the default too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def _measure_p3() -> dict[str, Any]:
    tag = f"p3-{time.time_ns()}"
    accounts = _accounts(tag, 2 * PROCESSES)
    statements = _one_posting_statements(accounts[0], accounts[1])
    postings, cpu = _run_postings([(accounts[2 * i], accounts[2 * i + 1]) for i in range(PROCESSES)])
    tps, pgbench_server_cpu = _pgbench_tps()
    return {
        "postings_per_s": postings / SECONDS,
        "pgbench_tps": tps,
        "statements_per_posting": statements,
        "synchronous_commit": _synchronous_commit(),
        **cpu,
        "pgbench_server_cpu_ms_per_txn": pgbench_server_cpu,
    }


def p3_postings(results: dict[str, Any]) -> dict[str, Any]:
    measured = _measure_p3()
    ratio = measured["postings_per_s"] / measured["pgbench_tps"]
    return {
        "value": round(measured["postings_per_s"], 1),
        "unit": "postings/s",
        "reference": round(measured["pgbench_tps"], 1),
        "reference_name": f"pgbench TPC-B tps (-c {PROCESSES} -j 2, scale {PGBENCH_SCALE})",
        "ratio": round(ratio, 3),
        "goal": ">= 0.5",
        "met": ratio >= 0.5,
        "statements_per_posting": measured["statements_per_posting"],
        "synchronous_commit": measured["synchronous_commit"],
        "server_cpu_ms_per_posting": measured["server_cpu_ms_per_posting"],
        "client_cpu_ms_per_posting": measured["client_cpu_ms_per_posting"],
        "pgbench_server_cpu_ms_per_txn": measured["pgbench_server_cpu_ms_per_txn"],
    }


def p4_hot_account(results: dict[str, Any]) -> dict[str, Any]:
    from ledger.models import Account

    p3 = results.get("P3", {}).get("value") or _measure_p3()["postings_per_s"]
    tag = f"p4-{time.time_ns()}"
    sources = _accounts(tag, PROCESSES)
    (hot,) = _accounts(f"{tag}-hot", 1)
    postings, cpu = _run_postings([(source, hot) for source in sources])
    balance = Account.objects.get(pk=hot).balance_minor
    ratio = postings / SECONDS / float(p3)
    return {
        "value": round(postings / SECONDS, 1),
        "unit": "postings/s on one account",
        "reference": round(float(p3), 1),
        "reference_name": "P3 postings/s",
        "ratio": round(ratio, 3),
        "goal": ">= 0.25, exact final balance",
        "exact_balance": balance == postings,
        "met": ratio >= 0.25 and balance == postings,
        **cpu,
    }


FIGURES = {"P3": p3_postings, "P4": p4_hot_account}
