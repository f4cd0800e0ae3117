"""What the provider said about a cash-in, handed to the ledger (worker, poller, callback).

The rail's part is small: translate a ``CashInResult`` or a typed provider error into a
``core.outcomes.Outcome`` and keep the cash-in's poll schedule (``next_poll_at``, by the rail's
``core.policy`` policy). Moving the transaction — transition, capture or release, event, outbox,
review flag — is ``ledger.services.outcome_apply``'s alone: late, duplicate and out-of-order
news never move a terminal state, and the same news applied twice moves money once.
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import partial

from django.db import connection
from django.db import transaction as db_transaction

from core.errors import ProviderError, ProviderUnavailable
from core.metrics import batch_items_total
from core.outcomes import Outcome
from core.policy import RetryPolicy, policy_for
from ledger.services import Applied, bulk_applicable, outcome_apply, outcomes_apply_bulk, transaction_flag_for_review
from ledger.states import Status
from mobilemoney.models import CashIn
from mobilemoney.providers.base import CashInResult, OperationStatus

logger = logging.getLogger("mobilemoney.outcomes")

RAIL = "mobile_money"
IN_FLIGHT = (Status.PROCESSING, Status.UNKNOWN)


def policy(mode: str) -> RetryPolicy:
    """The rail's poll, retry and review policy for work in ``mode`` (settings.EXECUTION_POLICIES)."""
    return policy_for(RAIL, mode)


def outcome_of(result: CashInResult) -> Outcome:
    """The provider's view of one cash-in as an ``Outcome`` (``processing`` → pending)."""
    if result.status is OperationStatus.SUCCEEDED:
        return Outcome.succeeded(result.provider_reference)
    if result.status is OperationStatus.REVERSED:
        return Outcome.reversed(result.provider_reference, result.failure_message or "")
    if result.status is OperationStatus.FAILED:
        return Outcome.rejected(
            result.failure_code,
            result.failure_message or "",
            provider_code=result.provider_failure_code,
            provider_reference=result.provider_reference,
        )
    return Outcome.pending(result.provider_reference)


def result_apply(cash_in: CashIn, result: CashInResult, *, cause: str) -> Applied:
    """Apply the provider's view of a cash-in; keep polling it until it is settled."""
    if result.provider_reference and result.provider_reference != cash_in.provider_reference:
        cash_in.provider_reference = result.provider_reference
        CashIn.objects.filter(pk=cash_in.pk).update(provider_reference=result.provider_reference)
    return outcome_settle(cash_in, outcome_of(result), cause=cause)


def results_apply_bulk(final: list[tuple[CashIn, CashInResult]], *, cause: str) -> list[tuple[CashIn, CashInResult]]:
    """``result_apply`` of many final results in ONE DB transaction (``ledger.services.outcomes_apply_bulk``:
    the same compare-and-set transitions, events, outbox rows and hold captures or releases, set-based),
    their cash-ins' provider reference and end of polling in one UPDATE. Returns what is left for
    ``result_apply``, one at a time: results the bulk path does not take and transactions another
    writer moved first. Raises (and wrote nothing) when any item fails: the caller applies them one by one."""
    taken = {}
    left = []
    for cash_in, result in final:
        outcome = outcome_of(result)
        if cash_in.pk not in taken and bulk_applicable(cash_in.transaction, outcome):
            taken[cash_in.pk] = (cash_in, result, outcome)
        else:
            left.append((cash_in, result))
    if not taken:
        return left
    with db_transaction.atomic():
        moved, _ = outcomes_apply_bulk([(c.transaction, outcome) for c, _, outcome in taken.values()], cause=cause)
        moved_pks = {t.pk for t in moved}
        done = [(c, r) for c, r, _ in taken.values() if c.transaction.pk in moved_pks]
        if done:
            _cash_ins_settled(done)
    for cash_in, result in done:
        if result.provider_reference:
            cash_in.provider_reference = result.provider_reference
        cash_in.next_poll_at = None
    return left + [(c, r) for c, r, _ in taken.values() if c.transaction.pk not in moved_pks]


_SETTLED_SQL = """
UPDATE {table} c SET next_poll_at = NULL, provider_reference = coalesce(v.provider_reference, c.provider_reference)
FROM unnest(%(ids)s::bigint[], %(references)s::text[]) AS v(id, provider_reference)
WHERE c.id = v.id
"""


def _cash_ins_settled(done: list[tuple[CashIn, CashInResult]]) -> None:
    """Settled cash-ins: their provider reference (when the answer names one) and no more polling,
    one statement; the batch items counted once the transaction commits."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SETTLED_SQL.format(table=CashIn._meta.db_table),
            {"ids": [c.pk for c, _ in done], "references": [r.provider_reference or None for _, r in done]},
        )
    counted = Counter(c.transaction.status for c, _ in done if c.batch_id is not None)
    for status, count in counted.items():
        if status in (Status.SUCCEEDED, Status.FAILED):
            db_transaction.on_commit(partial(_items_counted, str(status), count))


def _items_counted(status: str, count: int) -> None:
    batch_items_total.labels(RAIL, status).inc(count)


def error_apply(cash_in: CashIn, error: ProviderError, *, cause: str) -> Applied:
    """Apply a typed provider error: rejected → failed, unknown → unknown (polled), unavailable →
    unchanged and retried later under the same reference (staff asked once the sends run out)."""
    outcome = Outcome.from_error(error)
    exhausted = isinstance(error, ProviderUnavailable) and policy(cash_in.transaction.mode).is_exhausted(
        cash_in.poll_attempts + 1
    )
    if isinstance(error, ProviderUnavailable):
        logger.warning("provider unavailable", extra={"txn": cash_in.transaction.public_id, "error": error.message})
    return outcome_settle(
        cash_in,
        outcome,
        cause=cause,
        needs_review=exhausted,
        review_reason="provider unavailable: attempts exhausted" if exhausted else "",
    )


def outcome_settle(
    cash_in: CashIn, outcome: Outcome, *, cause: str, needs_review: bool = False, review_reason: str = ""
) -> Applied:
    applied = outcome_apply(
        transaction=cash_in.transaction,
        outcome=outcome,
        cause=cause,
        needs_review=needs_review,
        review_reason=review_reason,
    )
    if applied.moved and cash_in.batch_id is not None:
        batch_item_settled(RAIL, applied.status)
    if applied.is_settled:
        stop_polling(cash_in)
    else:  # still in flight (pending at the provider, unknown, unavailable): ask again later
        schedule_poll(cash_in)
    return applied


def batch_item_settled(rail: str, status: str) -> None:
    """Count a batch item that this call settled (``addon_batch_items_total{rail,outcome}``,
    docs/operations.md "Metrics"), once its DB transaction commits (at once outside one)."""
    if status in (Status.SUCCEEDED, Status.FAILED):
        db_transaction.on_commit(lambda: batch_items_total.labels(rail, str(status)).inc())


def schedule_poll(cash_in: CashIn) -> None:
    """Push the next status query back by the policy's bounded exponential backoff."""
    cash_in.next_poll_at = policy(cash_in.transaction.mode).next_at(cash_in.poll_attempts)
    cash_in.poll_attempts += 1
    CashIn.objects.filter(pk=cash_in.pk).update(poll_attempts=cash_in.poll_attempts, next_poll_at=cash_in.next_poll_at)


def stop_polling(cash_in: CashIn) -> None:
    cash_in.next_poll_at = None
    CashIn.objects.filter(pk=cash_in.pk).update(next_poll_at=None)


def flag_if_too_old(cash_in: CashIn) -> None:
    """A flag for staff past the review age, not a status change: the poller keeps asking."""
    transaction = cash_in.transaction
    if transaction.needs_review or not policy(transaction.mode).is_overdue(transaction.created_at):
        return
    transaction_flag_for_review(transaction_pk=transaction.pk, reason="cash-in unresolved past the review age")
    transaction.needs_review = True
    logger.warning("cash-in unresolved past the review age", extra={"txn": transaction.public_id})
