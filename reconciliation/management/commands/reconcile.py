"""``manage.py reconcile --provider CODE --date YYYY-MM-DD [--mode live|test] [--file PATH]``.

Prints the verdict and the breaks per kind; exits 0 only when the day is reconciled
(docs/reports.md §3.3). ``--file`` imports the provider's record from a file received otherwise
(a Niirpay settlement CSV, a bank's camt.053) instead of fetching it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.provider_records import RecordUnreadable
from partners.models import Mode
from reconciliation.importers import record_from_file
from reconciliation.models import BreakKind, Verdict
from reconciliation.services import reconciliation_run


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r}: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Reconcile one provider's business day against the ledger; exit 0 only when reconciled."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", required=True, help="connector name: wave, orange_money, niirpay, …")
        parser.add_argument("--date", required=True, help="the business day, YYYY-MM-DD (Africa/Dakar)")
        parser.add_argument("--mode", choices=Mode.values, default=Mode.LIVE)
        parser.add_argument("--file", help="the provider's record as a file (settlement CSV, camt.053)")

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options["date"])
        record = None
        if options["file"]:
            try:
                record = record_from_file(
                    provider=options["provider"], business_date=day, content=Path(options["file"]).read_bytes()
                )
            except (OSError, RecordUnreadable) as exc:
                raise CommandError(f"--file: {exc}") from None
        run = reconciliation_run(provider=options["provider"], mode=options["mode"], business_date=day, record=record)
        self.stdout.write(f"{run.provider} {run.mode} {run.business_date}: {run.verdict}")
        if run.note:
            self.stdout.write(f"  {run.note}")
        self.stdout.write(
            f"  provider lines {run.provider_lines}, ledger transactions {run.ledger_transactions}, "
            f"matched {run.matched}, in flight {run.in_flight}"
        )
        for kind in BreakKind:
            self.stdout.write(f"  {kind.label}: {run.counts.get(kind.value, 0)}")
        if run.verdict != Verdict.RECONCILED:
            raise CommandError(f"not reconciled: {run.verdict}", returncode=1 if run.verdict == Verdict.BREAKS else 2)
