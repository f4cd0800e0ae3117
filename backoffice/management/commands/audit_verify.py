"""Check the audit log's hash chain (docs/staff-security.md §3): exit 0 when intact, 1 naming the first bad record.

manage.py audit_verify
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backoffice.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and sequence; name the first record that does not belong."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.is_intact:
            raise CommandError(f"audit log broken after {report.count} good records: {report.problem}")
        self.stdout.write(f"audit log intact: {report.count} records")
