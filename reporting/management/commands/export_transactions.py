"""``manage.py export_transactions --from YYYY-MM-DD --to YYYY-MM-DD [--partner CODE]
[--mode live|test] [--rail R] [--provider P] [--status S] [--format csv|xlsx] --output FILE``.

Writes the transaction journal of the period (both days included, Africa/Dakar) and registers
the file's SHA-256 in the audit log (docs/reports.md §1.1).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.states import Status
from partners.models import Mode
from reporting.models import ReportFormat, ReportKind
from reporting.selectors import RAIL_KINDS, JournalFilter
from reporting.services import report_register, report_source, report_write_file


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name} {value!r}: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Write the transaction journal of a period as CSV or XLSX (registered in the audit log)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument("--partner", default="", help="a partner's code")
        parser.add_argument("--mode", choices=Mode.values, default="")
        parser.add_argument("--rail", choices=sorted(RAIL_KINDS), default="")
        parser.add_argument("--provider", default="")
        parser.add_argument("--status", choices=Status.values, default="")
        parser.add_argument("--format", choices=ReportFormat.values, default=ReportFormat.CSV)
        parser.add_argument("--output", required=True, help="the file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        journal = JournalFilter(
            date_from=_day("from", options["date_from"]),
            date_to=_day("to", options["date_to"]),
            **{name: options[name] for name in ("partner", "mode", "rail", "provider", "status")},
        )
        if journal.date_to < journal.date_from:
            raise CommandError("--to is before --from")
        parameters = {
            "date_from": journal.date_from.isoformat(),
            "date_to": journal.date_to.isoformat(),
            **journal.as_dict(),
        }
        output = Path(options["output"])
        try:
            written = report_write_file(report_source(ReportKind.JOURNAL, parameters), options["format"], output)
        except OSError as exc:
            raise CommandError(f"--output: {exc}") from None
        report_register(
            actor=None,
            kind=ReportKind.JOURNAL,
            file_format=options["format"],
            parameters=parameters,
            written=written,
            name=output.name,
        )
        self.stdout.write(f"{written.rows} transactions written to {output} (sha256 {written.sha256})")
