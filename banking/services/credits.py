"""Crediting a received batch's items through our core banking, and resolving unknown credits.

The chunk task credits items in order (reference = the transaction's public id, so a repeated
credit is answered with the first result, never posted twice); the poller asks the core about
credits whose answer was lost or not final. Every answer becomes an ``Outcome`` applied by
``credit_settle``, through the ledger's ``outcome_apply``: a posted credit captures the sending
bank's hold, a rejected one releases it (banking/services/batches.py places them).
"""

from __future__ import annotations

from django.db import transaction as db_transaction
from django.db.models import F

from banking.iso20022.reasons import ReasonCode
from banking.models import BatchStatus, TransferBatch, TransferBatchItem
from banking.providers.base import CoreBankingConnector, CreditOrder, CreditResult, CreditState, error_code_for_reason
from banking.services.common import CORE_BANKING_CODE, RAIL, banking_policy, claim, flag_if_overdue
from core.errors import ProviderError
from core.metrics import batch_items_total
from core.money import Money
from core.outcomes import Outcome, OutcomeKind
from ledger.services import Applied, calls_about, item_guard, outcome_apply
from ledger.states import Cause, Status
from partners.registry import connector_session_for


def batch_credit_chunk(*, batch_id: int, after_position: int, chunk_size: int) -> int | None:
    """Credit the pending items after ``after_position`` (at most ``chunk_size``); returns the
    last position looked at, or ``None`` when the batch has no item after it. Safe to run twice:
    each item is claimed (pending → processing) before its credit, and the core answers a repeated
    reference with the first result. An item that fails unexpectedly is set aside, the others go on."""
    items = list(
        TransferBatchItem.objects.select_related("transaction", "transaction__partner", "batch")
        .filter(batch_id=batch_id, position__gt=after_position, transaction__set_aside_at__isnull=True)
        .order_by("position")[:chunk_size]
    )
    if not items:
        return None
    TransferBatch.objects.filter(pk=batch_id, status=BatchStatus.RECEIVED).update(status=BatchStatus.PROCESSING)
    with connector_session_for(provider_code=CORE_BANKING_CODE, mode=items[0].batch.mode) as connector:
        for item in items:
            with item_guard(work="banking.bulk_credit_batch", transaction=item.transaction, item=_label(item)):
                if item.transaction.status == Status.PENDING and claim(item.transaction):
                    _credit(connector, item, cause=Cause.WORKER)
    return items[-1].position


def _label(item: TransferBatchItem) -> str:
    return f"batch item {item.pk} (batch {item.batch_id}, position {item.position})"


def _order(item: TransferBatchItem) -> CreditOrder:
    txn = item.transaction
    return CreditOrder(
        reference=txn.public_id,
        account=item.creditor_account,
        amount=Money(txn.amount_minor, txn.currency),
        beneficiary_name=item.creditor_name,
        remittance_information=item.remittance_information,
    )


def credit_outcome(result: CreditResult) -> Outcome:
    """The core's answer as an ``Outcome``: posted, rejected (ISO reason kept), or not final."""
    if result.status is CreditState.POSTED:
        return Outcome.succeeded(result.posting_reference)
    if result.status is CreditState.REJECTED:
        reason = (result.reason_code or ReasonCode.NOT_SPECIFIED.value)[:4]
        return Outcome.rejected(
            error_code_for_reason(result.reason_code),
            f"core banking rejected the credit ({reason})",
            provider_code=reason,
            reason_code=reason,
        )
    return Outcome.pending()


def _credit(connector: CoreBankingConnector, item: TransferBatchItem, *, cause: Cause) -> None:
    """Send one credit (the transaction is processing or unknown), recorded as a provider call,
    and apply its outcome. No retry here: an unavailable core leaves the item processing with a
    status query due, and the poller sends it again under the same reference."""
    order = _order(item)
    with calls_about(item.transaction):
        try:
            outcome = credit_outcome(connector.credit_account(order))
        except ProviderError as exc:
            outcome = Outcome.from_error(exc)
    credit_settle(item=item, outcome=outcome, cause=cause)


def credit_settle(*, item: TransferBatchItem, outcome: Outcome, cause: Cause) -> Applied:
    """Apply an outcome to the item's transaction (the ledger's ``outcome_apply``) and keep what
    the rail adds: the core's booking id, the ISO reason, the next status query while unsettled."""
    txn = item.transaction
    policy = banking_policy(txn.mode)
    sends = item.poll_attempts + 1  # the chunk's send, then one per status query answered NOT_FOUND at most
    exhausted = outcome.kind is OutcomeKind.UNAVAILABLE and policy.is_exhausted(sends)
    applied = outcome_apply(
        transaction=txn,
        outcome=outcome,
        cause=cause,
        needs_review=exhausted,
        review_reason=f"core banking unavailable after {sends} sends",
    )
    fields = ["next_poll_at"]
    if applied.status == Status.SUCCEEDED and outcome.kind is OutcomeKind.SUCCEEDED:
        item.posting_reference = outcome.provider_reference or ""
        fields.append("posting_reference")
    elif applied.status == Status.FAILED and "reason_code" in outcome.detail:
        item.reason_code = outcome.detail["reason_code"]
        fields.append("reason_code")
    item.next_poll_at = None if applied.is_settled else policy.next_at(item.poll_attempts)
    item.save(update_fields=fields)
    if applied.moved and applied.status in (Status.SUCCEEDED, Status.FAILED):
        # addon_batch_items_total{rail,outcome} (docs/operations.md "Metrics"), once committed
        settled = str(applied.status)
        db_transaction.on_commit(lambda: batch_items_total.labels(RAIL, settled).inc())
    return applied


def credit_resolve(*, item: TransferBatchItem) -> None:
    """One status query for an unresolved credit (poller): final answers are applied, a credit
    the core never received is sent again under the same reference, anything else waits longer
    (the policy's backoff) and is flagged for review past the policy's review age."""
    txn = item.transaction
    TransferBatchItem.objects.filter(pk=item.pk).update(poll_attempts=F("poll_attempts") + 1)
    item.poll_attempts += 1
    with connector_session_for(provider_code=CORE_BANKING_CODE, mode=txn.mode) as connector:
        with calls_about(txn):
            try:
                result = connector.credit_status(txn.public_id)
            except ProviderError:  # a query that failed taught us nothing: ask again later
                result = CreditResult(reference=txn.public_id, status=CreditState.PENDING)
        if result.status is CreditState.NOT_FOUND:
            _credit(connector, item, cause=Cause.POLLER)
        else:
            credit_settle(item=item, outcome=credit_outcome(result), cause=Cause.POLLER)
    flag_if_overdue(txn)
