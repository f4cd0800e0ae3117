"""The life of a break (docs/reports.md §3.3, §3.4): found, still open on the next run, resolved
when no longer found; an adjustment posting is a four-eyes action that moves the difference
between the provider's float and suspense, once, and keeps the books balanced."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import approval_request_approve, approval_request_create
from core.errors import BusinessRuleViolation
from core.money import Money
from core.outcomes import Outcome
from core.provider_records import DayRecord, RecordLine, RecordStatus
from ledger.models import Account, AccountKind, LedgerEntry, Transaction
from ledger.selectors import ledger_check
from ledger.services import account_get_or_create_partner_account, outcome_apply, transaction_claim, transaction_create
from partners.services import partner_create
from reconciliation.models import BreakState, ReconciliationBreak, ReconciliationRun
from reconciliation.services import reconciliation_run

pytestmark = pytest.mark.django_db


def paid(partner: Any, amount: int) -> Transaction:
    """A bill payment captured for real: the hold, the claim, the provider's success."""
    account = account_get_or_create_partner_account(partner=partner, mode="test", currency="XOF")
    txn = transaction_create(
        partner=partner, mode="test", kind="bill_payment", provider="niirpay", money=Money(amount, "XOF"),
        hold_account=account,
    )  # fmt: skip
    transaction_claim(transaction=txn)
    outcome_apply(transaction=txn, outcome=Outcome.succeeded(f"NPT-{txn.pk}"), cause="worker")
    return Transaction.objects.get(pk=txn.pk)


def record(*lines: tuple[Transaction, int]) -> DayRecord:
    return DayRecord(
        provider="niirpay",
        business_date=timezone.localdate(),
        lines=tuple(
            RecordLine(t.provider_reference, t.public_id, Money(amount, "XOF"), 0, RecordStatus.SUCCEEDED)
            for t, amount in lines
        ),
    )


def run(day_record: DayRecord) -> Any:
    return reconciliation_run(
        provider="niirpay", mode="test", business_date=day_record.business_date, record=day_record
    )


def balance(kind: str) -> int:
    account = Account.objects.filter(kind=kind, provider="niirpay", mode="test").first()
    return account.balance_minor if account else 0


def test_a_break_is_new_then_open_then_resolved_when_gone() -> None:
    partner = partner_create(name="Alpha", mode="test", scopes=()).partner
    one, two = paid(partner, 1000), paid(partner, 2000)
    first = run(record((one, 1000), (two, 2100)))
    brk = ReconciliationBreak.objects.get()
    assert (first.verdict, brk.kind, brk.state, brk.reference) == ("breaks", "amount_differs", "new", two.public_id)
    second = run(record((one, 1000), (two, 2100)))
    brk.refresh_from_db()
    assert (brk.state, brk.first_run_id, brk.last_run_id) == (BreakState.OPEN, first.pk, second.pk)
    third = run(record((one, 1000), (two, 2000)))  # the provider corrected its record
    brk.refresh_from_db()
    assert (third.verdict, brk.state, brk.resolution) == (
        "reconciled",
        "resolved",
        f"not found again by run {third.pk}",
    )
    # an incomplete run concludes nothing: it neither finds nor resolves
    partial = DayRecord("niirpay", timezone.localdate(), (), complete=False, note="page 3 missing")
    assert run(partial).verdict == "incomplete" and ReconciliationBreak.objects.count() == 1


def test_an_adjustment_is_posted_only_once_a_second_person_approved(django_user_model: Any) -> None:
    maker = django_user_model.objects.create_superuser(username="maker", password="x")
    checker = django_user_model.objects.create_superuser(username="checker", password="x")
    partner = partner_create(name="Alpha", mode="test", scopes=()).partner
    txn = paid(partner, 2000)
    run(record((txn, 2100)))
    brk = ReconciliationBreak.objects.get()
    float_before, entries_before = balance(AccountKind.PROVIDER_FLOAT), LedgerEntry.objects.count()

    request = approval_request_create(
        maker=maker, action="adjustment", target=brk.break_id, requested={}, reason="Niirpay's figure is right"
    )
    assert (
        request.current_value["adjustment"] == "100" and LedgerEntry.objects.count() == entries_before
    )  # asked, not posted
    approved = approval_request_approve(approval=request, checker=checker)
    assert approved.status == "executed", approved.failure_message
    assert balance(AccountKind.PROVIDER_FLOAT) == float_before + 100
    assert balance(AccountKind.SUSPENSE) == -100
    brk.refresh_from_db()
    assert brk.state == "resolved" and brk.resolution.startswith("adjustment posting")
    assert ledger_check().is_ok

    run(record((txn, 2100)))  # found again: the books were corrected, it stays resolved
    brk.refresh_from_db()
    assert brk.state == "resolved"
    with pytest.raises(BusinessRuleViolation):  # and cannot be adjusted twice
        approval_request_create(maker=maker, action="adjustment", target=brk.break_id, requested={}, reason="again")
    assert ApprovalRequest.objects.count() == 1 and balance(AccountKind.SUSPENSE) == -100


def test_a_status_difference_is_not_adjusted(django_user_model: Any) -> None:
    maker = django_user_model.objects.create_superuser(username="maker", password="x")
    partner = partner_create(name="Alpha", mode="test", scopes=()).partner
    account = account_get_or_create_partner_account(partner=partner, mode="test", currency="XOF")
    txn = transaction_create(
        partner=partner, mode="test", kind="bill_payment", provider="niirpay", money=Money(500, "XOF"),
        hold_account=account,
    )  # fmt: skip
    transaction_claim(transaction=txn)
    outcome_apply(transaction=txn, outcome=Outcome.unknown("timeout"), cause="worker")
    run(record((Transaction.objects.get(pk=txn.pk), 500)))
    brk = ReconciliationBreak.objects.get()
    assert brk.kind == "status_differs" and Transaction.objects.get(pk=txn.pk).needs_review
    entries = LedgerEntry.objects.count()
    with pytest.raises(BusinessRuleViolation, match="resolved on the transaction"):
        approval_request_create(maker=maker, action="adjustment", target=brk.break_id, requested={}, reason="no")
    assert LedgerEntry.objects.count() == entries and not ApprovalRequest.objects.exists()


def test_the_breaks_page_leads_to_the_adjustment_request_form(staff_client: Any) -> None:
    partner = partner_create(name="Alpha", mode="test", scopes=()).partner
    txn = paid(partner, 2000)
    run(record((txn, 1900)))
    brk = ReconciliationBreak.objects.get()
    page = staff_client.get(reverse("admin:reconciliation_reconciliationbreak_changelist"), {"state__exact": "new"})
    link = f"{reverse('admin:approvals_approvalrequest_add')}?action=adjustment&amp;target={brk.break_id}"
    assert page.status_code == 200 and link.encode() in page.content
    asked = staff_client.post(
        reverse("admin:approvals_approvalrequest_add"),
        {"action": "adjustment", "target": brk.break_id, "reason": "the settlement file is right"},
    )
    assert asked.status_code == 302
    request = ApprovalRequest.objects.get()
    assert (request.action, request.target, request.status) == ("adjustment", brk.break_id, "pending")
    assert request.current_value["adjustment"] == "-100"
    assert ReconciliationBreak.objects.get().state == "new"  # nothing posted before a second person approves


def test_a_settlement_file_received_otherwise_is_imported_by_the_command(tmp_path: Any) -> None:
    partner = partner_create(name="Alpha", mode="test", scopes=()).partner
    txn = paid(partner, 2000)
    day = timezone.localdate().isoformat()
    header = "Transaction Date,niirPay Transaction ID,Operator Transaction ID,reference,amount,fees,"
    good = tmp_path / "settlement.csv"
    line = f"{day},{txn.provider_reference},R1,{txn.public_id},2000,0,0,XOF"
    good.write_text(f"{header}commissions_operator_amount,currency\n{line}\n")
    out = io.StringIO()
    call_command("reconcile", "--provider", "niirpay", "--date", day, "--mode", "test", "--file", str(good), stdout=out)
    assert "reconciled" in out.getvalue()
    broken = tmp_path / "broken.csv"
    broken.write_text("reference,amount\n")
    with pytest.raises(CommandError, match="lacks the columns"):
        call_command("reconcile", "--provider", "niirpay", "--date", day, "--mode", "test", "--file", str(broken))
    assert ReconciliationRun.objects.count() == 1  # the unreadable file ran nothing
