"""Bulk cash-in processing: chunks on the ``bulk`` queue, a per-provider concurrency limit,
Wave's batch API when the provider has one, and a sweeper that re-drives chunks whose worker died.

Never pays twice: a Wave chunk is always submitted with the same idempotency key
(``<batch id>-<chunk number>``) and the same items, so a resubmission returns the same provider
batch; items of other providers are single cash-ins keyed by their transaction id, and those
already claimed are left to the cash-in poller (status first, then the same reference).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction as db_transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import ProviderError, ProviderRejected
from ledger.services import outbox_record
from mobilemoney.connectors import connection_for, connector_for
from mobilemoney.models import BatchChunk, CashIn, CashInBatch
from mobilemoney.providers.base import CashInBatchRequest, CashInResult, MobileMoneyProvider, OperationStatus
from mobilemoney.services import outcomes
from mobilemoney.services.cash_ins import cash_in_claim_and_submit, cash_in_request

logger = logging.getLogger("mobilemoney.bulk")

FINAL = (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.REVERSED)
IN_FLIGHT = ("pending", "processing", "unknown")


def lease_seconds() -> float:
    return float(getattr(settings, "MOBILEMONEY_BULK_LEASE_SECONDS", 20))


def enqueue_chunks(chunk_pks: list[int]) -> None:
    from mobilemoney.tasks import bulk_chunk_work  # the tasks module imports this one

    for pk in chunk_pks:
        bulk_chunk_work.delay(pk)


def _lease(chunk_pk: int) -> BatchChunk | None:
    """Take the chunk for ``lease_seconds`` (compare-and-set); None when another worker has it."""
    now = timezone.now()
    taken = BatchChunk.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=chunk_pk, status__in=("pending", "submitted")
    ).update(lease_until=now + timedelta(seconds=lease_seconds()), attempts=F("attempts") + 1)
    return BatchChunk.objects.select_related("batch").get(pk=chunk_pk) if taken else None


def _renew(chunk: BatchChunk) -> None:
    BatchChunk.objects.filter(pk=chunk.pk).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds()))


def _release(chunk: BatchChunk, *, retry_in: float | None = None) -> None:
    until = timezone.now() + timedelta(seconds=retry_in) if retry_in is not None else None
    BatchChunk.objects.filter(pk=chunk.pk).update(lease_until=until)


def _slot(provider: str, limit: int) -> str | None:
    """One of ``limit`` concurrency slots of the provider (Redis, expiring with the lease)."""
    for index in range(limit):
        key = f"mm:bulk:{provider}:slot:{index}"
        if cache.add(key, 1, timeout=int(lease_seconds()) + 5):
            return key
    return None


def _items(chunk: BatchChunk) -> list[CashIn]:
    return list(CashIn.objects.filter(chunk=chunk).select_related("transaction").order_by("line"))


def _work_single(chunk: BatchChunk, connector: MobileMoneyProvider) -> bool:
    """One cash-in per item (Orange Money); True when no item is left pending."""
    for cash_in in _items(chunk):
        if cash_in.transaction.status == "pending":
            cash_in_claim_and_submit(cash_in, connector)
            _renew(chunk)
    return True


def _submit_provider_batch(chunk: BatchChunk, connector: MobileMoneyProvider, items: list[CashIn]) -> bool:
    for cash_in in items:
        if cash_in.transaction.status == "pending":
            outcomes.move(cash_in.transaction, "processing", cause="worker")
    request = CashInBatchRequest(
        reference=f"{chunk.batch.public_id}-{chunk.number}", items=tuple(cash_in_request(c) for c in items)
    )
    try:
        submission = connector.cash_in_batch(request)
    except ProviderRejected as exc:
        for cash_in in items:
            outcomes.apply_rejection(cash_in, exc, cause="worker")
        return False
    except ProviderError as exc:  # unknown or unavailable: resubmit later with the same key
        logger.warning("batch submission to retry", extra={"chunk": chunk.pk, "error": exc.message})
        return False
    chunk.provider_batch_id, chunk.status = submission.batch_id, "submitted"
    chunk.save(update_fields=["provider_batch_id", "status"])
    return True


def _poll_provider_batch(chunk: BatchChunk, connector: MobileMoneyProvider, items: list[CashIn]) -> bool:
    """Apply the final item results of the provider batch; True when it is complete."""
    by_reference = {c.transaction.public_id: c for c in items}
    for _ in range(int(getattr(settings, "MOBILEMONEY_BULK_POLLS_PER_TASK", 20))):
        try:
            status = connector.cash_in_batch_status(chunk.provider_batch_id)
        except ProviderError as exc:
            logger.warning("batch status unavailable", extra={"chunk": chunk.pk, "error": exc.message})
            return False
        for result in status.items:
            cash_in = by_reference.get(result.reference)
            if cash_in is not None and result.status in FINAL and cash_in.transaction.status in IN_FLIGHT:
                _apply_batch_result(cash_in, result)
        _renew(chunk)
        if status.is_complete:
            return True
        time.sleep(0.5)
    return False


def _apply_batch_result(cash_in: CashIn, result: CashInResult) -> None:
    outcomes.apply_result(cash_in, result, cause="worker")


def _work_provider_batch(chunk: BatchChunk, connector: MobileMoneyProvider) -> bool:
    items = _items(chunk)
    if not chunk.provider_batch_id and not _submit_provider_batch(chunk, connector, items):
        return all(c.transaction.status not in IN_FLIGHT for c in _items(chunk))
    return _poll_provider_batch(chunk, connector, _items(chunk))


def chunk_work(chunk_pk: int) -> None:
    """Work one chunk under its lease and a provider slot; safe to run twice or concurrently."""
    chunk = _lease(chunk_pk)
    if chunk is None:
        return
    batch = chunk.batch
    connection = connection_for(provider=batch.provider, mode=batch.mode)
    slot = _slot(batch.provider, int((connection.limits or {}).get("bulk_concurrency", 2)))
    if slot is None:
        _release(chunk, retry_in=1.0)  # the sweeper comes back for it
        return
    try:
        with connector_for(provider=batch.provider, mode=batch.mode) as connector:
            work = _work_provider_batch if connector.supports_batch else _work_single
            done = work(chunk, connector)
        if done:
            BatchChunk.objects.filter(pk=chunk.pk).update(status="done", lease_until=None)
        else:
            _release(chunk, retry_in=1.0)
    finally:
        cache.delete(slot)
    batch_refresh(batch)


def batch_refresh(batch: CashInBatch) -> bool:
    """Complete the batch once every item is final (once: a compare-and-set)."""
    if CashIn.objects.filter(batch=batch, transaction__status__in=IN_FLIGHT).exists():
        return False
    with db_transaction.atomic():
        moved = CashInBatch.objects.filter(pk=batch.pk, status="processing").update(
            status="completed", completed_at=timezone.now()
        )
        if moved:
            outcomes_payload = {"id": batch.public_id, "status": "completed"}
            outbox_record(
                type="cash_in_batch.completed",
                aggregate=batch,
                partner=batch.partner,
                mode=batch.mode,
                payload=outcomes_payload,
            )
    return True


def bulk_sweep() -> int:
    """Beat: re-enqueue chunks whose lease ran out (a worker died, a retry is due) and complete
    batches whose last items were resolved elsewhere (poller, callbacks). Returns chunks enqueued."""
    now = timezone.now()
    settle = now - timedelta(seconds=lease_seconds() / 2)
    due = list(
        BatchChunk.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            status__in=("pending", "submitted"),
            batch__status="processing",
            batch__created_at__lt=settle,
        ).values_list("pk", flat=True)[:500]
    )
    enqueue_chunks(due)
    for batch in CashInBatch.objects.filter(status="processing").select_related("partner")[:100]:
        batch_refresh(batch)
    return len(due)
