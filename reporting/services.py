"""Writing report files and registering them (docs/reports.md §1).

Every report file, whoever asked for it and however it is delivered (a file kept for download,
a command's output file, a CSV streamed to the browser), is registered in the audit log with its
SHA-256, its size and its row count: an auditor can prove a file is the one the gateway wrote.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction as db_transaction
from django.utils import timezone

from backoffice.audit import audit_record
from core.tasks import enqueue_on_commit
from ledger.models import Account
from reporting.formats import csv_chunks, xlsx_write
from reporting.models import FloatSnapshot, ReportFile, ReportFormat, ReportKind, ReportStatus
from reporting.selectors import (
    FLOAT_HEADER,
    JOURNAL_HEADER,
    STATEMENT_HEADER,
    SUMMARY_HEADER,
    JournalFilter,
    daily_summary_rows,
    float_position_rows,
    journal_queryset,
    journal_rows,
    statement_of,
    statement_rows,
)

logger = logging.getLogger("reporting")
AUDIT_ACTION = "report.generated"
Rows = Callable[[bool], Iterable[Sequence[Any]]]  # numbers? -> rows


@dataclass(frozen=True)
class Written:
    rows: int
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ReportSource:
    """What a report is made of: its header, its rows (amounts as numbers for XLSX), its size."""

    title: str
    header: Sequence[str]
    rows: Rows
    total: int = 0


def report_source(kind: str, parameters: dict[str, Any]) -> ReportSource:
    """The source of a report of ``kind`` with its ``parameters`` (as stored on ``ReportFile``)."""
    if kind == ReportKind.JOURNAL:
        journal = JournalFilter(
            date_from=date.fromisoformat(parameters["date_from"]),
            date_to=date.fromisoformat(parameters["date_to"]),
            **{k: parameters.get(k, "") for k in ("partner", "mode", "rail", "provider", "status")},
        )
        return ReportSource(
            "journal",
            JOURNAL_HEADER,
            lambda numbers: journal_rows(journal, numbers=numbers),
            journal_queryset(journal).count(),
        )
    if kind == ReportKind.STATEMENT:
        statement = statement_of(
            account=Account.objects.get(public_id=parameters["account"]),
            date_from=date.fromisoformat(parameters["date_from"]),
            date_to=date.fromisoformat(parameters["date_to"]),
        )
        return ReportSource(
            "statement",
            STATEMENT_HEADER,
            lambda numbers: statement_rows(statement, numbers=numbers),
            statement.entry_count,
        )
    day, mode = date.fromisoformat(parameters["day"]), parameters["mode"]
    if kind == ReportKind.DAILY_SUMMARY:
        return ReportSource("summary", SUMMARY_HEADER, lambda numbers: daily_summary_rows(day=day, mode=mode))
    return ReportSource("float position", FLOAT_HEADER, lambda numbers: float_position_rows(day=day, mode=mode))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def report_write_file(
    source: ReportSource, file_format: str, path: Path, progress: Callable[[int], None] | None = None
) -> Written:
    """Write ``source`` to ``path`` as CSV (streamed) or XLSX (write-only); its fingerprint."""
    if file_format == ReportFormat.XLSX:
        rows = xlsx_write(path, title=source.title, header=source.header, rows=source.rows(True), progress=progress)
    else:
        rows = 0

        def counted() -> Iterator[Sequence[Any]]:
            nonlocal rows
            for row in source.rows(False):
                rows += 1
                if progress is not None and rows % 10_000 == 0:
                    progress(rows)
                yield row

        with path.open("wb") as handle:
            for chunk in csv_chunks(source.header, counted()):
                handle.write(chunk)
    return Written(rows=rows, size_bytes=path.stat().st_size, sha256=_sha256_of(path))


def report_register(
    *,
    actor: AbstractBaseUser | None,
    kind: str,
    file_format: str,
    parameters: dict[str, Any],
    written: Written,
    name: str,
) -> None:
    """The audit log's record of a generated report file."""
    audit_record(
        actor=actor,
        action=AUDIT_ACTION,
        target=name,
        data={
            "kind": kind,
            "format": file_format,
            "parameters": parameters,
            "rows": written.rows,
            "size_bytes": written.size_bytes,
            "sha256": written.sha256,
        },
    )


def report_stream(
    source: ReportSource, *, actor: AbstractBaseUser | None, kind: str, parameters: dict[str, Any], name: str
) -> Iterator[bytes]:
    """A CSV report streamed to the browser; registered (with the SHA-256 of exactly the bytes
    sent) once the last chunk has gone. A download cut short is not registered: no file exists."""
    digest, size, rows = hashlib.sha256(), 0, 0

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal rows
        for row in source.rows(False):
            rows += 1
            yield row

    for chunk in csv_chunks(source.header, counted()):
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    written = Written(rows=rows, size_bytes=size, sha256=digest.hexdigest())
    report_register(
        actor=actor, kind=kind, file_format=ReportFormat.CSV, parameters=parameters, written=written, name=name
    )


# --- files kept for download (written by a worker) ---------------------------------------------


def report_request(
    *, kind: str, file_format: str, parameters: dict[str, Any], requested_by: AbstractBaseUser | None
) -> ReportFile:
    """Record the request and have a worker write the file (``reporting.report_write``)."""
    with db_transaction.atomic():
        report = ReportFile.objects.create(
            kind=kind,
            file_format=file_format,
            parameters=parameters,
            requested_by_id=requested_by.pk if requested_by is not None else None,
        )
        enqueue_on_commit("reporting.report_write", report.pk)
    return report


def report_path(report: ReportFile) -> Path:
    return Path(settings.REPORTS_DIR) / report.file_name


def report_write(*, report_id: int) -> ReportFile:
    """Write a requested file (claimed queued → running once, so a second delivery does nothing)."""
    if not ReportFile.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(status=ReportStatus.RUNNING):
        return ReportFile.objects.get(pk=report_id)
    report = ReportFile.objects.get(pk=report_id)
    source = report_source(report.kind, report.parameters)
    ReportFile.objects.filter(pk=report.pk).update(rows_total=source.total)
    report.file_name = f"{report.public_id}.{report.file_format}"
    Path(settings.REPORTS_DIR).mkdir(parents=True, exist_ok=True)

    def progress(rows: int) -> None:
        ReportFile.objects.filter(pk=report.pk).update(rows_written=rows)

    try:
        written = report_write_file(source, report.file_format, report_path(report), progress)
    except OSError as exc:
        ReportFile.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED, error=str(exc)[:500])
        logger.exception("report %s could not be written", report.public_id)
        return ReportFile.objects.get(pk=report.pk)
    with db_transaction.atomic():
        ReportFile.objects.filter(pk=report.pk).update(
            status=ReportStatus.DONE,
            file_name=report.file_name,
            rows_written=written.rows,
            rows_total=max(written.rows, source.total),
            size_bytes=written.size_bytes,
            sha256=written.sha256,
            finished_at=timezone.now(),
        )
        report_register(
            actor=report.requested_by,
            kind=report.kind,
            file_format=report.file_format,
            parameters=report.parameters,
            written=written,
            name=report.file_name,
        )
    return ReportFile.objects.get(pk=report.pk)


def float_snapshots_take(*, readings: Iterable[tuple[str, str, str, int]]) -> int:
    """Keep the floats providers reported (provider, mode, currency, minor) for the float position."""
    now = timezone.now()
    rows = [FloatSnapshot(provider=p, mode=m, currency=c, reported_minor=v, taken_at=now) for p, m, c, v in readings]
    FloatSnapshot.objects.bulk_create(rows)
    return len(rows)
