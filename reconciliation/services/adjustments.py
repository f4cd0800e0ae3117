"""Resolving a break by an adjustment posting (docs/reports.md §3.4): a four-eyes action.

The posting moves the difference between the provider's float account and the suspense
account of the same mode and currency, so the float in our books says what the provider says
while the difference waits in suspense for the investigation to clear it. It goes through the
ledger's posting service; nothing else writes entries. Only the approval of a second person
calls this (the "adjustment" action of the back office's four-eyes requests).
"""

from __future__ import annotations

from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import BusinessRuleViolation
from ledger.models import INCOMING_KINDS, AccountKind, Posting, Transaction
from ledger.services import account_get_or_create_system, posting_create
from reconciliation.models import BreakKind, BreakState, ReconciliationBreak
from reconciliation.services.runs import ADJUSTED

ADJUSTABLE = frozenset(
    {
        BreakKind.AMOUNT_DIFFERS,
        BreakKind.FEE_DIFFERS,
        BreakKind.MISSING_AT_PROVIDER,
        BreakKind.MISSING_IN_LEDGER,
        BreakKind.DUPLICATE_AT_PROVIDER,
    }
)


def adjustment_minor(brk: ReconciliationBreak) -> int:
    """What the provider's float account must move by (positive: the provider paid out more)."""
    if brk.kind == BreakKind.FEE_DIFFERS:
        delta = (brk.provider_fee_minor or 0) - (brk.ledger_fee_minor or 0)
    elif brk.kind == BreakKind.DUPLICATE_AT_PROVIDER:
        delta = brk.provider_amount_minor or 0
    else:
        delta = brk.difference_minor
    incoming = brk.transaction_id is not None and (
        Transaction.objects.filter(pk=brk.transaction_id, kind__in=list(INCOMING_KINDS)).exists()
    )
    return -delta if incoming else delta


def adjustment_check(brk: ReconciliationBreak | None, break_id: str) -> int:
    """The adjustment an open, adjustable break calls for; ``BusinessRuleViolation`` otherwise."""
    if brk is None:
        raise BusinessRuleViolation(f"No break {break_id}.")
    if brk.state == BreakState.RESOLVED:
        raise BusinessRuleViolation(f"The break {break_id} is already resolved.")
    if brk.kind not in ADJUSTABLE:
        raise BusinessRuleViolation("A status difference is resolved on the transaction, not by a posting.")
    amount = adjustment_minor(brk)
    if amount == 0:
        raise BusinessRuleViolation("This break has no amount to adjust.")
    return amount


def break_resolve_by_adjustment(*, break_id: str, actor: str) -> Posting:
    """Post the adjustment of an open break and resolve it; refused for a resolved break, a
    status difference (settled by resolving the transaction, not by a posting) or a zero one."""
    with db_transaction.atomic():
        brk = ReconciliationBreak.objects.select_for_update().filter(break_id=break_id).first()
        amount = adjustment_check(brk, break_id)
        assert brk is not None  # adjustment_check refused a missing break
        book = {"mode": brk.mode, "currency": brk.currency}
        float_account = account_get_or_create_system(kind=AccountKind.PROVIDER_FLOAT, provider=brk.provider, **book)
        suspense = account_get_or_create_system(kind=AccountKind.SUSPENSE, provider=brk.provider, **book)
        posting = posting_create(
            lines=[(float_account, amount), (suspense, -amount)],
            description=f"reconciliation adjustment {brk.break_id} ({brk.kind}) approved, asked by {actor}",
        )
        brk.state, brk.resolved_at = BreakState.RESOLVED, timezone.now()
        brk.resolution = f"{ADJUSTED} {posting.pk}"
        brk.save(update_fields=["state", "resolved_at", "resolution"])
    return posting
