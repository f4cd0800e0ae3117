"""Retry of a batch's failed items: each gets a new cash-in with the same line, MSISDN, amount
and client reference, and a new transaction (the failed one is final; its provider reference is
spent: Wave would replay the refusal for it). Held, inserted and enqueued like an ingest."""

from __future__ import annotations

from django.db import transaction as db_transaction

from core.errors import BusinessRuleViolation
from core.money import Money
from ledger.states import Status
from mobilemoney.models import CashIn, CashInBatch
from mobilemoney.models.batches import BatchStatus
from mobilemoney.services.batch_ingest import insert_items
from mobilemoney.services.batch_work import enqueue_chunks
from mobilemoney.validation import CashInInput


def batch_retry_failed(batch: CashInBatch) -> int:
    """Retry every failed, not yet retried item; returns how many (422 when there is none).
    ``InsufficientFunds`` (nothing written) when the partner can no longer cover them."""
    with db_transaction.atomic():
        locked = CashInBatch.objects.select_for_update().select_related("partner").get(pk=batch.pk)
        failed = list(
            CashIn.objects.filter(batch=locked, superseded=False, transaction__status=Status.FAILED)
            .select_related("transaction")
            .order_by("line")
        )
        if not failed:
            raise BusinessRuleViolation("The batch has no failed item to retry.")
        items = [
            CashInInput(
                msisdn=c.msisdn,
                money=Money(c.transaction.amount_minor, c.transaction.currency),
                client_reference=c.transaction.client_reference,
                recipient_name=c.recipient_name,
                reason=c.reason,
            )
            for c in failed
        ]
        chunks = insert_items(batch=locked, items=items, lines=[c.line or 0 for c in failed], retry_of=failed)
        CashIn.objects.filter(pk__in=[c.pk for c in failed]).update(superseded=True)
        CashInBatch.objects.filter(pk=locked.pk).update(status=BatchStatus.PROCESSING, completed_at=None)
        enqueue_chunks(chunks)  # after commit
    return len(failed)
