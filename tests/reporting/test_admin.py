"""The reports and reconciliation in the console: for staff who may read reports only; a valid
form answers the report (registered in the audit log), a bad one is shown back, nothing written."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice.models import AuditRecord
from reporting.models import ReportFile
from tests.reporting.test_journal import make_day

pytestmark = pytest.mark.django_db

PAGES = (
    "admin:reporting_reportfile_changelist",
    "admin:reconciliation_reconciliationrun_changelist",
    "admin:reconciliation_reconciliationbreak_changelist",
    "admin:reconciliation_reconciliationmatch_changelist",
)


def journal_query(**extra: str) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {
        "report": "journal",
        "journal-date_from": today,
        "journal-date_to": today,
        "journal-file_format": "csv",
        "journal-delivery": "stream",
        **extra,
    }


def test_a_journal_is_streamed_from_the_console_and_registered(staff_client: Any) -> None:
    day = make_day()
    for page in PAGES:
        assert staff_client.get(reverse(page)).status_code == 200, page
    response = staff_client.get(reverse("admin:reporting_reports"), journal_query())
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert len(rows) == day["ledger"]["n"]
    record = AuditRecord.objects.get(action="report.generated")
    assert record.data["sha256"] == hashlib.sha256(content).hexdigest() and record.actor_username == "staff"


def test_bad_report_forms_are_shown_back_and_write_nothing(staff_client: Any) -> None:
    url = reverse("admin:reporting_reports")
    for query in (
        journal_query(**{"journal-date_to": "2020-01-01"}),  # ends before it begins
        journal_query(**{"journal-file_format": "xlsx"}),  # XLSX is never streamed
        journal_query(**{"journal-date_from": "not a date"}),
        {"report": "statement", "statement-account": "acc_nope", "statement-date_from": "2026-01-01",
         "statement-date_to": "2026-01-02"},
    ):  # fmt: skip
        response = staff_client.get(url, query)
        assert response.status_code == 400, query
        assert b"errorlist" in response.content
    assert not AuditRecord.objects.filter(action="report.generated").exists()
    assert not ReportFile.objects.exists()


def test_staff_without_the_reports_permission_see_nothing(client: Any, django_user_model: Any) -> None:
    operator = django_user_model.objects.create_user(username="op", password="x", is_staff=True)
    client.force_login(operator)
    assert client.get(reverse("admin:reporting_reports"), journal_query()).status_code == 403
    for page in PAGES:
        assert client.get(reverse(page)).status_code == 403, page
    assert not AuditRecord.objects.filter(action="report.generated").exists()
