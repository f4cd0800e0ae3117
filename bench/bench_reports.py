"""The journal of 1,000,000 transactions streamed as CSV, and reconciling 100,000 provider lines.

Setup (once, in this process): 1,000,000 transactions of today inserted by one SQL statement
(``generate_series``), 100,000 of them succeeded through a bench provider with a provider
reference. Each measure then runs in a fresh spawned process, so its ``ru_maxrss`` (the
process's peak resident memory, the 200 MB budget of docs/reports.md §5) is its own:

- journal: ``export_transactions``' path (``report_write_file``: server-side cursor, CSV writer,
  chunks to a file); rows per second and the peak;
- reconciliation: ``reconciliation_run`` with a 100,000-line record held in memory (ten lines
  with another amount): reading our side, matching, storing the matched pairs and the breaks.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRANSACTIONS = 1_000_000
RECONCILED = 100_000
PROVIDER = "bench_provider"
MEMORY_BUDGET_MB = 200


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _seed() -> None:
    from django.db import connection
    from django.utils import timezone

    from ledger.models import Transaction
    from partners.services import partner_create

    if Transaction.objects.filter(provider=PROVIDER).exists():
        return
    partner = partner_create(name="Bench partner", mode="test", scopes=()).partner
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Transaction._meta.db_table} (public_id, partner_id, mode, kind, provider, amount_minor,
                fee_minor, currency, status, client_reference, provider_reference, failure_code,
                failure_message, needs_review, review_reason, metadata, created_at, updated_at)
            SELECT 'txn_bench' || lpad(i::text, 8, '0'), %s, 'test', 'collection',
                   CASE WHEN i <= %s THEN %s ELSE 'wave' END, 1000 + i %% 9000, i %% 50, 'XOF',
                   CASE WHEN i <= %s OR i %% 3 = 0 THEN 'succeeded' ELSE 'failed' END,
                   CASE WHEN i %% 1000 = 0 THEN '=1+1' ELSE 'order-' || i END,
                   'P' || i, '', '', false, '', '{{}}', %s, %s
            FROM generate_series(1, %s) AS i
            """,  # noqa: S608 - the table name is ours; every value is a parameter
            [partner.pk, RECONCILED, PROVIDER, RECONCILED, timezone.now(), timezone.now(), TRANSACTIONS],
        )


def _journal() -> dict[str, Any]:
    from django.utils import timezone

    from reporting.models import ReportKind
    from reporting.services import report_source, report_write_file

    day = timezone.localdate().isoformat()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.csv"
        started = time.perf_counter()
        written = report_write_file(report_source(ReportKind.JOURNAL, {"date_from": day, "date_to": day}), "csv", path)
        seconds = time.perf_counter() - started
    return {"rows": written.rows, "seconds": round(seconds, 1), "rows_per_second": int(written.rows / seconds),
            "file_mb": round(written.size_bytes / 1e6, 1)}  # fmt: skip


def _reconciliation() -> dict[str, Any]:
    from django.utils import timezone

    from core.money import Money
    from core.provider_records import DayRecord, RecordLine, RecordStatus
    from ledger.models import Transaction
    from reconciliation.services import reconciliation_run

    ours = Transaction.objects.filter(provider=PROVIDER, status="succeeded").values_list(
        "public_id", "provider_reference", "amount_minor", "fee_minor"
    )
    lines = tuple(
        RecordLine(
            provider_ref, public_id, Money(amount + (1 if index < 10 else 0), "XOF"), fee, RecordStatus.SUCCEEDED
        )
        for index, (public_id, provider_ref, amount, fee) in enumerate(ours.iterator(chunk_size=10_000))
    )
    record = DayRecord(provider=PROVIDER, business_date=timezone.localdate(), lines=lines)
    started = time.perf_counter()
    run = reconciliation_run(provider=PROVIDER, mode="test", business_date=record.business_date, record=record)
    seconds = time.perf_counter() - started
    return {"lines": len(lines), "seconds": round(seconds, 1), "verdict": run.verdict, "matched": run.matched,
            "breaks": run.counts}  # fmt: skip


PHASES: dict[str, Callable[[], dict[str, Any]]] = {"journal": _journal, "reconciliation": _reconciliation}


def _measure(phase: str, results: Any) -> None:
    _setup()
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = PHASES[phase]()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put({**result, "ru_maxrss_mb": round(peak_kb / 1024, 1), "baseline_mb": round(baseline_kb / 1024, 1)})


def _in_fresh_process(phase: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_measure, args=(phase, results))
    process.start()
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        try:
            result = dict(results.get(timeout=1))
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"the {phase} phase died (exit code {process.exitcode})") from None
            continue
        process.join(timeout=60)
        return result
    process.kill()
    raise TimeoutError(f"the {phase} phase took more than 1800 s")


def run() -> dict[str, Any]:
    _setup()
    started = time.perf_counter()
    _seed()
    seeded = round(time.perf_counter() - started, 1)
    journal = _in_fresh_process("journal")
    reconciliation = _in_fresh_process("reconciliation")
    return {
        "transactions": TRANSACTIONS,
        "seed_seconds": seeded,
        "journal_csv": {**journal, "under_memory_budget": journal["ru_maxrss_mb"] < MEMORY_BUDGET_MB},
        "reconciliation": reconciliation,
    }
