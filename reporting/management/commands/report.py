"""``manage.py report --kind daily_summary|float_position --day YYYY-MM-DD [--mode live|test]
--output FILE`` and ``manage.py report --kind statement --account acc_… --from … --to …
--output FILE``: the other reports as CSV for scheduled jobs, registered in the audit log like
every report file (docs/reports.md §1). The journal has its own command, export_transactions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.models import Account
from partners.models import Mode
from reporting.models import ReportFormat, ReportKind
from reporting.services import report_register, report_source, report_write_file

KINDS = (ReportKind.DAILY_SUMMARY, ReportKind.FLOAT_POSITION, ReportKind.STATEMENT)


def _day(name: str, value: str | None) -> str:
    try:
        return date.fromisoformat(value or "").isoformat()
    except ValueError:
        raise CommandError(f"--{name} {value!r}: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Write a daily summary, a float position or an account statement as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--day", help="daily_summary, float_position: the business day")
        parser.add_argument("--mode", choices=Mode.values, default=Mode.LIVE)
        parser.add_argument("--account", help="statement: the account's id (acc_…)")
        parser.add_argument("--from", dest="date_from", help="statement: first day")
        parser.add_argument("--to", dest="date_to", help="statement: last day")
        parser.add_argument("--output", required=True)

    def parameters(self, options: dict[str, Any]) -> dict[str, str]:
        if options["kind"] != ReportKind.STATEMENT:
            return {"day": _day("day", options["day"]), "mode": options["mode"]}
        if not Account.objects.filter(public_id=options["account"] or "").exists():
            raise CommandError(f"--account {options['account']!r}: no such account")
        parameters = {
            "account": options["account"],
            "date_from": _day("from", options["date_from"]),
            "date_to": _day("to", options["date_to"]),
        }
        if parameters["date_to"] < parameters["date_from"]:
            raise CommandError("--to is before --from")
        return parameters

    def handle(self, *args: Any, **options: Any) -> None:
        parameters = self.parameters(options)
        output = Path(options["output"])
        try:
            written = report_write_file(report_source(options["kind"], parameters), ReportFormat.CSV, output)
        except OSError as exc:
            raise CommandError(f"--output: {exc}") from None
        report_register(
            actor=None,
            kind=options["kind"],
            file_format=ReportFormat.CSV,
            parameters=parameters,
            written=written,
            name=output.name,
        )
        self.stdout.write(f"{written.rows} rows written to {output} (sha256 {written.sha256})")
