"""Four-eyes requests (maker-checker): ask, approve (which executes), reject, expire.

A request records who asked, what, why, the target's current value and the requested one. A
different staff member holding ``backoffice.decide_request`` approves or rejects it; the database
refuses a checker who is the maker (``approvalrequest_checker_not_maker``) and a second pending
request for one action on one target (``approvalrequest_one_pending``).

Approval and execution are two steps, each under ``select_for_update`` of the request row:
``pending → approved`` (the decision), then ``approved → executed`` (the action, validated again
first). A second execution finds the request executed and does nothing; an execution that finds
the action no longer valid marks the request ``failed`` and changes nothing else. A pending
request past ``APPROVAL_REQUEST_TTL_HOURS`` is expired (by the beat task, and before any decision)
and cannot be approved. Every step writes its audit record (``backoffice.audit.audit_record``) in
the same DB transaction as the change it records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from approvals.actions import ACTIONS, invalid
from approvals.models import ApprovalRequest, RequestStatus
from backoffice.audit import audit_record
from core.errors import BusinessRuleViolation, Conflict, GatewayError, PermissionDenied

MAKE_PERMISSION = "backoffice.make_request"
DECIDE_PERMISSION = "backoffice.decide_request"


def _require(user: Any, permission: str, doing: str) -> None:
    if user is None or not user.is_active or not user.has_perm(permission):
        raise PermissionDenied(f"You are not allowed to {doing} (needs {permission}).")


def _audit(user: Any, verb: str, approval: ApprovalRequest, **data: Any) -> None:
    audit_record(
        actor=user,
        action=f"approval.{verb}",
        target=f"approval_request:{approval.pk}",
        data={"action": approval.action, "target": approval.target, "status": approval.status, **data},
    )


def event_actor(approval: ApprovalRequest) -> dict[str, Any]:
    """How a transaction event names the people behind a staff action: both of them."""
    return {
        "type": "staff",
        "maker": approval.maker.get_username(),
        "checker": approval.checker.get_username() if approval.checker else None,
        "approval_request": approval.pk,
    }


def approval_request_create(
    *, maker: Any, action: str, target: str, requested: Mapping[str, Any], reason: str
) -> ApprovalRequest:
    """Record a pending request after validating it (``GatewayError`` otherwise, nothing written)."""
    _require(maker, MAKE_PERMISSION, "ask for a four-eyes action")
    spec = ACTIONS.get(action)
    if spec is None:
        raise invalid("action", f"must be one of {', '.join(ACTIONS)}")
    if not reason.strip():
        raise invalid("reason", "say why you ask")
    prepared = spec.prepare(target, requested)
    approval_requests_expire()  # an expired request must not hold the target's one pending place
    now = timezone.now()
    try:
        with db_transaction.atomic():
            approval = ApprovalRequest.objects.create(
                action=action,
                target=prepared.target,
                reason=reason.strip(),
                current_value=prepared.current,
                requested_value=prepared.requested,
                maker=maker,
                expires_at=now + timedelta(hours=settings.APPROVAL_REQUEST_TTL_HOURS),
            )
            _audit(maker, "create", approval, reason=approval.reason, requested=prepared.requested)
    except IntegrityError:
        existing = ApprovalRequest.objects.filter(
            action=action, target=prepared.target, status=RequestStatus.PENDING
        ).first()
        raise Conflict(
            f"A pending request for this action on {prepared.target} exists already"
            + (f" (#{existing.pk})." if existing else ".")
        ) from None
    return approval


def _locked(approval: ApprovalRequest) -> ApprovalRequest:
    rows = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("maker", "checker")
    return rows.get(pk=approval.pk)


def _decidable(approval: ApprovalRequest, checker: Any) -> ApprovalRequest:
    """Lock the request and check it may be decided now by ``checker`` (inside an atomic block)."""
    _require(checker, DECIDE_PERMISSION, "decide four-eyes requests")
    locked = _locked(approval)
    if locked.status != RequestStatus.PENDING:
        raise Conflict(f"Request #{locked.pk} is {locked.status}: it cannot be decided any more.")
    if locked.expires_at <= timezone.now():
        raise BusinessRuleViolation(f"Request #{locked.pk} has expired: ask again.")
    if locked.maker_id == checker.pk:
        raise PermissionDenied("The maker of a request cannot decide it: another staff member must.")
    return locked


def _decide(approval: ApprovalRequest, checker: Any, note: str, status: RequestStatus) -> ApprovalRequest:
    approval_requests_expire(pk=approval.pk)
    with db_transaction.atomic():
        locked = _decidable(approval, checker)
        locked.status, locked.checker, locked.decided_at = status, checker, timezone.now()
        locked.decision_note = note.strip()
        locked.save(update_fields=["status", "checker", "decided_at", "decision_note"])
        _audit(checker, "approve" if status == RequestStatus.APPROVED else "reject", locked, note=locked.decision_note)
    return locked


def approval_request_approve(*, approval: ApprovalRequest, checker: Any, note: str = "") -> ApprovalRequest:
    """Approve a pending request, then execute it (see ``approval_request_execute``)."""
    return approval_request_execute(approval=_decide(approval, checker, note, RequestStatus.APPROVED))


def approval_request_reject(*, approval: ApprovalRequest, checker: Any, note: str = "") -> ApprovalRequest:
    """Reject a pending request: nothing of it is ever executed."""
    return _decide(approval, checker, note, RequestStatus.REJECTED)


def approval_request_execute(*, approval: ApprovalRequest) -> ApprovalRequest:
    """Execute an approved request once: ``approved → executed`` under the row lock, the action
    validated again first. A request that is not ``approved`` (executed already, rejected, expired,
    pending) is returned untouched: executing twice does nothing more."""
    try:
        with db_transaction.atomic():
            locked = _locked(approval)
            if locked.status != RequestStatus.APPROVED:
                return locked
            done = ACTIONS[locked.action].execute(locked, event_actor(locked))
            locked.status, locked.executed_at, locked.result = RequestStatus.EXECUTED, timezone.now(), done.result
            locked.secret_for_maker = done.secret
            locked.save(update_fields=["status", "executed_at", "result", "secret_for_maker"])
            _audit(locked.checker, "execute", locked, result=done.result)
        return locked
    except GatewayError as exc:  # no longer valid: the action's own writes were rolled back
        return _failed(approval, exc.detail)


def _failed(approval: ApprovalRequest, message: str) -> ApprovalRequest:
    with db_transaction.atomic():
        locked = _locked(approval)
        if locked.status == RequestStatus.APPROVED:
            locked.status, locked.executed_at, locked.failure_message = RequestStatus.FAILED, timezone.now(), message
            locked.save(update_fields=["status", "executed_at", "failure_message"])
            _audit(locked.checker, "fail", locked, error=message)
    return locked


def approval_requests_expire(*, pk: int | None = None) -> int:
    """Mark pending requests past their ``expires_at`` expired (each its own audit record); how many."""
    due = ApprovalRequest.objects.filter(status=RequestStatus.PENDING, expires_at__lte=timezone.now())
    if pk is not None:
        due = due.filter(pk=pk)
    count = 0
    for approval_pk in due.values_list("pk", flat=True):
        with db_transaction.atomic():
            locked = _locked(ApprovalRequest(pk=approval_pk))
            if locked.status != RequestStatus.PENDING:
                continue
            locked.status = RequestStatus.EXPIRED
            locked.save(update_fields=["status"])
            _audit(None, "expire", locked)
            count += 1
    return count


def approval_secret_reveal(*, approval: ApprovalRequest, user: Any) -> str | None:
    """The secret an executed rotation made, for its maker, once: it is wiped as it is read."""
    if user is None or approval.maker_id != user.pk:
        return None
    with db_transaction.atomic():
        locked = _locked(approval)
        secret = locked.secret_for_maker
        if not secret:
            return None
        locked.secret_for_maker = None
        locked.save(update_fields=["secret_for_maker"])
        _audit(user, "secret_shown", locked)
    return secret
