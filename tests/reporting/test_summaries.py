"""The daily summary per provider and partner, the float position and the statement file
(issue 12, item 1): figures equal to the ledger's, written by the command, registered."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from backoffice.models import AuditRecord
from core.money import Money
from core.outcomes import Outcome
from ledger.models import Account, AccountKind
from ledger.services import account_get_or_create_partner_account, outcome_apply, transaction_claim, transaction_create
from partners.services import partner_create
from reporting.models import FloatSnapshot

pytestmark = pytest.mark.django_db


def settle(partner: Any, provider: str, amount: int, outcome: Outcome | None) -> None:
    account = account_get_or_create_partner_account(partner=partner, mode="test", currency="XOF")
    txn = transaction_create(
        partner=partner, mode="test", kind="cash_in", provider=provider, money=Money(amount, "XOF"),
        fee=Money(10, "XOF"), hold_account=account,
    )  # fmt: skip
    if outcome is not None:
        transaction_claim(transaction=txn)
        outcome_apply(transaction=txn, outcome=outcome, cause="worker")


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_the_daily_summary_counts_amounts_rates_and_times_per_provider_and_partner(tmp_path: Path) -> None:
    alpha, bravo = (partner_create(name=n, mode="test", scopes=()).partner for n in ("Alpha", "Bravo"))
    for amount in (1000, 2000, 3000):
        settle(alpha, "wave", amount, Outcome.succeeded("W"))
    settle(alpha, "wave", 500, Outcome.rejected("provider_rejected", "blocked"))
    settle(bravo, "wave", 700, Outcome.unknown("timeout"))
    settle(bravo, "orange_money", 900, None)
    out = tmp_path / "summary.csv"
    day = timezone.localdate().isoformat()
    call_command("report", "--kind", "daily_summary", "--day", day, "--mode", "test", "--output", str(out),
                 stdout=io.StringIO())  # fmt: skip
    rows = {(r["provider"], r["partner"]): r for r in read(out)}
    wave_alpha = rows[("wave", alpha.code)]
    assert (wave_alpha["count"], wave_alpha["count_succeeded"], wave_alpha["count_failed"]) == ("4", "3", "1")
    assert (wave_alpha["amount_succeeded"], wave_alpha["fees_succeeded"]) == ("6000", "30")
    assert wave_alpha["success_rate"] == "0.7500" and float(wave_alpha["p95_seconds_to_final"]) >= 0
    wave_all = rows[("wave", "*")]  # every partner of the provider
    assert (wave_all["count"], wave_all["count_unknown"], wave_all["success_rate"]) == ("5", "1", "0.7500")
    pending = rows[("orange_money", bravo.code)]
    assert (pending["count_pending"], pending["success_rate"], pending["avg_seconds_to_final"]) == ("1", "", "")
    assert AuditRecord.objects.get(action="report.generated", target="summary.csv").data["rows"] == len(rows)


def test_the_float_position_sets_our_float_next_to_the_providers_word(tmp_path: Path) -> None:
    alpha = partner_create(name="Alpha", mode="test", scopes=()).partner
    settle(alpha, "wave", 1000, Outcome.succeeded("W"))
    settle(alpha, "wave", 2500, Outcome.succeeded("W"))
    now = timezone.now()
    FloatSnapshot.objects.create(provider="wave", mode="test", currency="XOF", reported_minor=99_000_000,
                                 taken_at=now - timedelta(days=1))  # fmt: skip
    FloatSnapshot.objects.create(provider="wave", mode="test", currency="XOF", reported_minor=98_996_500, taken_at=now)
    out = tmp_path / "float.csv"
    call_command("report", "--kind", "float_position", "--day", timezone.localdate().isoformat(), "--mode", "test",
                 "--output", str(out), stdout=io.StringIO())  # fmt: skip
    (row,) = [r for r in read(out) if r["provider"] == "wave"]
    ledger_float = Account.objects.get(kind=AccountKind.PROVIDER_FLOAT, provider="wave", mode="test")
    assert row["ledger_float_balance"] == str(ledger_float.balance_minor) == "3500"
    assert row["ledger_float_movement"] == "3500"
    assert (row["provider_reported_balance"], row["provider_reported_change"]) == ("98996500", "-3500")


def test_a_statement_file_and_bad_arguments(tmp_path: Path) -> None:
    alpha = partner_create(name="Alpha", mode="test", scopes=()).partner
    settle(alpha, "wave", 1000, Outcome.succeeded("W"))
    account = account_get_or_create_partner_account(partner=alpha, mode="test", currency="XOF")
    out, day = tmp_path / "statement.csv", timezone.localdate().isoformat()
    call_command("report", "--kind", "statement", "--account", account.public_id, "--from", day, "--to", day,
                 "--output", str(out), stdout=io.StringIO())  # fmt: skip
    rows = read(out)
    assert [r["amount"] for r in rows] == ["1000000000", "-1010"]
    assert rows[-1]["balance_after"] == str(Account.objects.get(pk=account.pk).balance_minor)
    for bad in (["--account", "acc_nope", "--from", day, "--to", day], ["--account", account.public_id, "--from", "x"]):
        with pytest.raises(CommandError):
            call_command("report", "--kind", "statement", *bad, "--output", str(tmp_path / "no.csv"))
    assert not (tmp_path / "no.csv").exists()
