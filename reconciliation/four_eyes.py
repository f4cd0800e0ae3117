"""The "adjustment" four-eyes action (docs/reports.md §3.4), registered with the back office's
requests (``approvals.actions.ACTIONS``) when the app is ready: a maker asks for the adjustment of
a break (target: its ``brk_…`` id), a second person approves, and only then is it posted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from approvals.actions import ACTIONS, ActionSpec, Executed, Prepared
from approvals.models import ApprovalRequest
from core.money import format_minor
from reconciliation.models import ReconciliationBreak
from reconciliation.services.adjustments import adjustment_check, break_resolve_by_adjustment

ACTION = "adjustment"


def _break_now(brk: ReconciliationBreak, amount_minor: int) -> dict[str, Any]:
    return {
        "provider": brk.provider,
        "mode": brk.mode,
        "business_date": brk.business_date.isoformat(),
        "kind": brk.kind,
        "state": brk.state,
        "reference": brk.reference,
        "provider_reference": brk.provider_reference,
        "adjustment": format_minor(amount_minor, brk.currency),
        "currency": brk.currency,
    }


def adjustment_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    brk = ReconciliationBreak.objects.filter(break_id=target.strip()).first()
    amount = adjustment_check(brk, target.strip())
    assert brk is not None
    return Prepared(brk.break_id, _break_now(brk, amount), {})


def adjustment_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    maker = str(actor.get("maker") or "")
    posting = break_resolve_by_adjustment(break_id=request.target, actor=f"{maker}, approved by {actor.get('checker')}")
    return Executed({"posting": posting.pk, "break": request.target})


def register() -> None:
    """Called by ``ReconciliationConfig.ready``: the back office learns the action."""
    ACTIONS[ACTION] = ActionSpec(adjustment_prepare, adjustment_execute)
