"""Four-eyes requests through their services (approvals/services.py), for every action: approval
executes once and a second execution changes nothing; rejection and expiry execute nothing; the
maker never decides, the database refusing it even through the ORM; one pending request per action
and target; a request no longer valid when executed fails and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import (
    approval_request_approve,
    approval_request_create,
    approval_request_execute,
    approval_request_reject,
    approval_secret_reveal,
)
from approvals.tasks import expire_requests
from backoffice.models import AuditRecord
from core.errors import BusinessRuleViolation, Conflict, GatewayError, PermissionDenied
from core.outcomes import Outcome
from ledger.models import Hold, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import outcome_apply, transaction_flag_for_review
from ledger.states import Cause
from partners.selectors import signing_secret_values_active
from tests.approvals.conftest import ALL_ACTIONS, scenario, unknown_cash_in

pytestmark = pytest.mark.django_db


def ask(maker, action: str, sc):  # type: ignore[no-untyped-def]
    return approval_request_create(
        maker=maker, action=action, target=sc.target, requested=sc.requested, reason="ticket 7"
    )


def resolve_request(maker, public_id: str, outcome: str, evidence: str):  # type: ignore[no-untyped-def]
    requested = {"outcome": outcome, "evidence": evidence}
    return approval_request_create(
        maker=maker, action="force_resolve", target=public_id, requested=requested, reason="unknown for two days"
    )


def audited(approval: ApprovalRequest) -> list[str]:
    rows = AuditRecord.objects.filter(target=f"approval_request:{approval.pk}").order_by("seq")
    return list(rows.values_list("action", flat=True))


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_approval_executes_once_and_executing_again_changes_nothing(action, maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(action, live_partner)
    before = sc.probe()
    approval = ask(maker, action, sc)
    assert sc.probe() == before  # asking changes nothing
    done = approval_request_approve(approval=approval, checker=checker)
    assert done.status == "executed", done.failure_message
    after = sc.probe()
    assert after != before
    assert approval_request_execute(approval=done).status == "executed"
    assert sc.probe() == after  # the second execution did nothing more
    assert audited(approval) == ["approval.create", "approval.approve", "approval.execute"]
    assert ledger_check().is_ok


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_rejection_and_expiry_execute_nothing(action, maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(action, live_partner)
    before = sc.probe()
    rejected = approval_request_reject(approval=ask(maker, action, sc), checker=checker, note="no evidence")
    assert (rejected.status, approval_request_execute(approval=rejected).status) == ("rejected", "rejected")
    expiring = ask(maker, action, sc)
    ApprovalRequest.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict):  # found expired at the decision
        approval_request_approve(approval=expiring, checker=checker)
    assert ApprovalRequest.objects.get(pk=expiring.pk).status == "expired"
    assert sc.probe() == before
    assert audited(rejected) == ["approval.create", "approval.reject"]
    assert audited(expiring) == ["approval.create", "approval.expire"]


def test_the_beat_task_expires_pending_requests_past_their_time(maker, live_partner, settings) -> None:  # type: ignore[no-untyped-def]
    settings.APPROVAL_REQUEST_TTL_HOURS = 2
    sc = scenario("top_up", live_partner)
    approval = ask(maker, "top_up", sc)
    assert abs(approval.expires_at - approval.created_at - timedelta(hours=2)) < timedelta(seconds=1)
    assert expire_requests() == 0
    ApprovalRequest.objects.filter(pk=approval.pk).update(expires_at=timezone.now())
    assert (expire_requests(), expire_requests()) == (1, 0)
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "expired"
    assert ask(maker, "top_up", sc).status == "pending"  # the target is free for a new request


def test_the_maker_cannot_decide_and_the_database_refuses_it_too(maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    approval = ask(checker, "top_up", scenario("top_up", live_partner))  # a supervisor may ask too
    with pytest.raises(PermissionDenied):
        approval_request_approve(approval=approval, checker=checker)
    with pytest.raises(PermissionDenied):
        approval_request_approve(approval=approval, checker=maker)  # an operator cannot decide at all
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(status="approved", checker=checker)
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"


def test_one_pending_request_per_action_and_target(maker, live_partner) -> None:  # type: ignore[no-untyped-def]
    sc = scenario("top_up", live_partner)
    first = ask(maker, "top_up", sc)
    with pytest.raises(Conflict, match=f"#{first.pk}"):
        ask(maker, "top_up", sc)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(
            action="top_up", target=sc.target, reason="x", maker=maker, expires_at=first.expires_at
        )
    assert ask(maker, "overdraft", scenario("overdraft", live_partner)).status == "pending"  # another action


def test_force_resolution_captures_once_and_names_both_people(maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    txn = unknown_cash_in(live_partner)
    approval = resolve_request(maker, txn.public_id, "succeeded", "Wave statement line 42")
    assert approval.current_value["status"] == "unknown"
    approval_request_approve(approval=approval, checker=checker)
    txn.refresh_from_db()
    assert txn.status == "succeeded" and Hold.objects.get(transaction=txn).status == "captured"
    staff_event = TransactionEvent.objects.get(transaction=txn, to_status="succeeded")
    assert staff_event.cause == "staff"
    assert (staff_event.actor["maker"], staff_event.actor["checker"]) == ("awa.operator", "moussa.supervisor")
    assert staff_event.detail["evidence"] == "Wave statement line 42"


def test_a_force_resolved_transaction_leaves_the_queue_with_its_reason_kept(maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    txn = unknown_cash_in(live_partner)
    assert transaction_flag_for_review(transaction_pk=txn.pk, reason="unknown for more than a day")
    approval = resolve_request(maker, txn.public_id, "failed", "Wave says never received")
    approval_request_approve(approval=approval, checker=checker)
    txn.refresh_from_db()
    assert txn.status == "failed" and Hold.objects.get(transaction=txn).status == "released"
    assert not txn.needs_review
    assert txn.review_reason == f"resolved by staff (request {approval.pk}): unknown for more than a day"
    assert not Transaction.objects.filter(pk=txn.pk, needs_review=True).exists()


def test_a_request_no_longer_valid_when_executed_fails_and_changes_nothing(maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    txn = unknown_cash_in(live_partner)
    approval = resolve_request(maker, txn.public_id, "failed", "Wave says never received")
    outcome_apply(transaction=txn, outcome=Outcome.succeeded("WV-9"), cause=Cause.POLLER)  # the poller got there
    events = txn.events.count()
    done = approval_request_approve(approval=approval, checker=checker)
    assert done.status == "failed" and "succeeded" in done.failure_message
    txn.refresh_from_db()
    assert txn.status == "succeeded" and txn.events.count() == events
    assert audited(approval)[-1] == "approval.fail"
    assert ledger_check().is_ok


def test_a_payout_cannot_be_reversed_and_says_why(maker, live_partner) -> None:  # type: ignore[no-untyped-def]
    txn = unknown_cash_in(live_partner)
    outcome_apply(transaction=txn, outcome=Outcome.succeeded("WV-1"), cause=Cause.WORKER)
    with pytest.raises(BusinessRuleViolation, match="cash_in cannot be reversed"):
        approval_request_create(maker=maker, action="reverse", target=txn.public_id, requested={}, reason="complaint")
    assert ApprovalRequest.objects.count() == 0


def test_a_rotated_live_secret_is_shown_to_its_maker_once(maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    approval = ask(maker, "rotate_secret", scenario("rotate_secret", live_partner))
    done = approval_request_approve(approval=approval, checker=checker)
    assert done.result["active_secrets"] == 2
    assert approval_secret_reveal(approval=done, user=checker) is None  # the maker's only
    secret = approval_secret_reveal(approval=done, user=maker)
    assert secret and secret.startswith("ss_live_")
    assert secret in signing_secret_values_active(partner_id=live_partner.partner.pk, mode="live")
    assert approval_secret_reveal(approval=done, user=maker) is None  # wiped
    assert ApprovalRequest.objects.filter(pk=done.pk, secret_for_maker__isnull=True).exists()


def test_bad_requests_are_refused_before_anything_is_recorded(maker, live_partner) -> None:  # type: ignore[no-untyped-def]
    partner = live_partner.partner.code
    refused: list[tuple[str, str, dict[str, Any]]] = [
        ("top_up", partner, {"amount": "-5"}),
        ("top_up", "nobody", {"amount": "5"}),
        ("partner_scopes", partner, {"scopes": ["fly.to_the_moon"]}),
        ("partner_limits", partner, {"rail": "crypto"}),
        ("force_resolve", "txn_nothing", {"outcome": "succeeded", "evidence": "x"}),
        ("revoke_key", "abc", {}),
        ("sell_the_bank", partner, {}),
    ]
    for action, target, requested in refused:
        with pytest.raises(GatewayError):
            approval_request_create(maker=maker, action=action, target=target, requested=requested, reason="r")
    assert ApprovalRequest.objects.count() == 0
