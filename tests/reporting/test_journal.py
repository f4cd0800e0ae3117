"""The transaction journal (issue 12, item 1 acceptance): CSV and XLSX of a period hold exactly
its transactions (count, Σ amounts, Σ fees equal to the ledger's), open with the csv module and
openpyxl, neutralise formula-looking cells, and each file is registered with its SHA-256."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone
from openpyxl import load_workbook

from backoffice.models import AuditRecord
from core.money import Money
from ledger.models import Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create
from partners.services import partner_create
from reporting.models import ReportFile
from reporting.services import report_request
from reporting.tasks import report_write_task

pytestmark = pytest.mark.django_db


def make_day(count: int = 12) -> dict[str, Any]:
    """Transactions of two partners today (one with a formula as its reference), and some yesterday."""
    partners = [partner_create(name=name, mode="test", scopes=()).partner for name in ("Alpha", "Bravo")]
    for index in range(count):
        partner = partners[index % 2]
        reference = "=1+1" if index == 3 else f"order-{index}"
        kind = "bill_payment" if index % 3 == 0 else "collection"
        hold = (
            account_get_or_create_partner_account(partner=partner, mode="test", currency="XOF")
            if index % 3 == 0
            else None
        )
        transaction_create(
            partner=partner,
            mode="test",
            kind=kind,
            provider="niirpay" if kind == "bill_payment" else "wave",
            money=Money(1000 + index * 37, "XOF"),
            fee=Money(index * 5, "XOF"),
            client_reference=reference,
            hold_account=hold if kind == "bill_payment" else None,
        )
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=1)):
        for _ in range(3):
            transaction_create(
                partner=partners[0], mode="test", kind="collection", provider="wave", money=Money(99_999, "XOF")
            )
    today = timezone.localdate()
    ledger = Transaction.objects.filter(created_at__date=today).aggregate(
        n=Count("id"), amount=Sum("amount_minor"), fee=Sum("fee_minor")
    )
    return {"today": today, "partners": partners, "ledger": ledger}


def test_the_journal_csv_and_xlsx_hold_exactly_the_period(tmp_path: Path) -> None:
    day = make_day()
    today, ledger = day["today"].isoformat(), day["ledger"]
    assert ledger["n"] == 12

    csv_path, xlsx_path = tmp_path / "journal.csv", tmp_path / "journal.xlsx"
    call_command("export_transactions", "--from", today, "--to", today, "--output", str(csv_path), stdout=io.StringIO())
    call_command(
        "export_transactions", "--from", today, "--to", today, "--format", "xlsx", "--output", str(xlsx_path),
        stdout=io.StringIO(),
    )  # fmt: skip

    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == ledger["n"]
    assert sum(Decimal(r["amount"]) for r in rows) == ledger["amount"]
    assert sum(Decimal(r["fee"]) for r in rows) == ledger["fee"]
    assert {r["currency"] for r in rows} == {"XOF"}
    assert "'=1+1" in [r["client_reference"] for r in rows]  # neutralised, never a formula

    sheet = load_workbook(xlsx_path, read_only=True).active
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(cells) == ledger["n"]
    amount, fee, reference = header.index("amount"), header.index("fee"), header.index("client_reference")
    assert sum(Decimal(str(c[amount])) for c in cells) == ledger["amount"]
    assert sum(Decimal(str(c[fee])) for c in cells) == ledger["fee"]
    assert "'=1+1" in [c[reference] for c in cells]

    records = {r.target: r.data for r in AuditRecord.objects.filter(action="report.generated")}
    for path in (csv_path, xlsx_path):
        assert records[path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert records[path.name]["rows"] == ledger["n"]

    one = io.StringIO()
    partner = day["partners"][1].code
    call_command(
        "export_transactions",
        "--from",
        today,
        "--to",
        today,
        "--partner",
        partner,
        "--output",
        str(csv_path),
        stdout=one,
    )
    assert one.getvalue().startswith("6 transactions written")


def test_a_large_journal_is_written_by_a_worker_with_its_progress_and_kept(tmp_path: Path, settings: Any) -> None:
    settings.REPORTS_DIR = tmp_path / "reports"
    day = make_day()
    parameters = {"date_from": day["today"].isoformat(), "date_to": day["today"].isoformat()}
    report = report_request(kind="journal", file_format="xlsx", parameters=parameters, requested_by=None)
    assert report.status == "queued"
    assert report_write_task(report.pk) == "done"
    assert report_write_task(report.pk) == "done"  # a second delivery finds it written
    report = ReportFile.objects.get(pk=report.pk)
    kept = settings.REPORTS_DIR / report.file_name
    assert (report.rows_written, report.rows_total, report.progress_percent) == (12, 12, 100)
    assert report.sha256 == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert AuditRecord.objects.filter(action="report.generated", target=report.file_name).count() == 1
