"""The one place where a provider outcome is applied to a money movement (docs/architecture.md §11).

Workers, pollers, callback appliers — and staff force-resolution and reconciliation — hand the
outcome (``core.outcomes.Outcome``) of one transaction to ``outcome_apply``. It moves the state
machine through ``transaction_transition`` (which captures or releases the hold and writes the
event and the outbox row in the same DB transaction) and sets the review flag. It is safe to
call twice and from racing processes: every move is a compare-and-set, so the same outcome
applied by a poller and a callback at once moves money once; the loser is told it did nothing.

| outcome       | transaction is…             | becomes                               |
|---------------|-----------------------------|---------------------------------------|
| succeeded     | pending, processing, unknown | succeeded (via processing if pending: callbacks overtake) |
| rejected      | pending, processing, unknown | failed, with our code and the provider's message |
| reversed      | succeeded / in flight       | reversed / failed                      |
| unknown       | processing                  | unknown (asked again later, never guessed) |
| unavailable, pending | anything             | unchanged (nothing happened / not final yet) |

News that contradicts a settled transaction (success for a failed one, failure for a succeeded
one) never moves it: it is logged and the transaction is flagged for staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from core.errors import ErrorCode, IllegalTransition
from core.outcomes import Outcome, OutcomeKind
from ledger.models import Transaction
from ledger.services.review import transaction_flag_for_review
from ledger.services.transactions import transaction_transition
from ledger.states import FINAL, Cause, Status

logger = logging.getLogger("ledger.outcomes")

SETTLED: frozenset[str] = frozenset({*FINAL, Status.SUCCEEDED})
IN_FLIGHT: frozenset[str] = frozenset({Status.PROCESSING, Status.UNKNOWN})


@dataclass(frozen=True)
class Applied:
    """What applying an outcome did: whether this call moved the transaction, and where it is."""

    moved: bool
    status: str

    @property
    def is_settled(self) -> bool:
        """The transaction needs no more asking: stop polling it."""
        return self.status in SETTLED


def outcome_apply(
    *,
    transaction: Transaction,
    outcome: Outcome,
    cause: str,
    detail: dict[str, Any] | None = None,
    actor: dict[str, Any] | None = None,
    needs_review: bool = False,
    review_reason: str = "",
) -> Applied:
    """Apply ``outcome`` to ``transaction`` (see the table above); never raises ``IllegalTransition``."""
    cause = Cause(cause)
    info = {**outcome.detail, **(detail or {})}
    if outcome.message and outcome.kind in (OutcomeKind.UNKNOWN, OutcomeKind.UNAVAILABLE):
        info.setdefault("error", outcome.message[:300])
    move = _Mover(transaction, cause=cause, actor=actor, detail=info)
    kind = outcome.kind
    if kind is OutcomeKind.SUCCEEDED:
        moved = move.reach(Status.SUCCEEDED, provider_reference=outcome.provider_reference)
        _contradiction(transaction, outcome, wanted=Status.SUCCEEDED)
    elif kind is OutcomeKind.REJECTED or (kind is OutcomeKind.REVERSED and transaction.status != Status.SUCCEEDED):
        if outcome.provider_code:
            info.setdefault("provider_code", outcome.provider_code)
        moved = move.to(
            Status.FAILED,
            provider_reference=outcome.provider_reference,
            failure_code=outcome.code or str(ErrorCode.PROVIDER_REJECTED),
            failure_message=outcome.message or "The provider refused the operation.",
        )
        _contradiction(transaction, outcome, wanted=Status.FAILED)
    elif kind is OutcomeKind.REVERSED:
        moved = move.to(Status.REVERSED)
    elif kind is OutcomeKind.UNKNOWN and transaction.status == Status.PROCESSING:
        moved = move.to(Status.UNKNOWN, needs_review=True if needs_review else None)
    else:  # unavailable, pending, or unknown about a transaction not processing: nothing to move
        moved = False
    if needs_review and not transaction.needs_review:
        transaction_flag_for_review(
            transaction_pk=transaction.pk, reason=review_reason or f"{kind} outcome needs a look"
        )
        transaction.needs_review = True  # flagged now, or already in the database
    return Applied(moved=moved, status=transaction.status)


def transaction_claim(*, transaction: Transaction, cause: str = Cause.WORKER) -> bool:
    """Take a pending transaction for work (pending → processing, a compare-and-set): True for the
    one caller that moved it; False when another worker (or an earlier run) has it, when it is
    settled, or when it was set aside for staff."""
    if transaction.set_aside_at is not None:
        return False
    return _Mover(transaction, cause=Cause(cause), actor=None, detail={}).to(Status.PROCESSING)


class _Mover:
    """Transitions of one transaction, an illegal one read as "someone else got there first"."""

    def __init__(self, transaction: Transaction, *, cause: Cause, actor: dict[str, Any] | None, detail: dict) -> None:
        self.transaction, self.cause, self.actor, self.detail = transaction, cause, actor, detail

    def to(self, to_status: Status, **changes: Any) -> bool:
        try:
            transaction_transition(
                transaction=self.transaction,
                to_status=to_status,
                cause=self.cause,
                actor=self.actor,
                detail=self.detail or None,
                **{name: value for name, value in changes.items() if value is not None},
            )
        except IllegalTransition:
            logger.info(
                "%s is %s already; %s not applied",
                self.transaction.public_id,
                self.transaction.status,
                to_status,
                extra={"transaction": self.transaction.public_id},
            )
            return False
        return True

    def reach(self, to_status: Status, **changes: Any) -> bool:
        """Like ``to``, passing through ``processing`` when the transaction is still ``pending``."""
        if self.transaction.status == Status.PENDING:
            self.to(Status.PROCESSING)
        return self.to(to_status, **changes)


def _contradiction(transaction: Transaction, outcome: Outcome, *, wanted: Status) -> None:
    """A settled transaction that the provider now describes the other way: staff must look."""
    opposite = {Status.SUCCEEDED: (Status.FAILED, Status.EXPIRED, Status.CANCELLED), Status.FAILED: (Status.SUCCEEDED,)}
    if transaction.status not in opposite[wanted] or transaction.needs_review:
        return
    reason = f"provider reports {outcome.kind} for a {transaction.status} transaction"
    logger.warning("%s: %s", transaction.public_id, reason, extra={"transaction": transaction.public_id})
    transaction_flag_for_review(transaction_pk=transaction.pk, reason=reason)
    transaction.needs_review = True
