"""``manage.py ledger_check``: verify the books; exit 1 and list offenders when they are broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.selectors import ledger_check


class Command(BaseCommand):
    help = "Verify that postings balance per currency and that account balances equal their entries."

    def handle(self, *args: Any, **options: Any) -> None:
        result = ledger_check()
        if not result.is_ok:
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger check failed: {len(result.problems)} problem(s)", returncode=1)
        self.stdout.write(
            f"ledger OK: {result.postings} postings, {result.entries} entries, {result.accounts} accounts balanced"
        )
