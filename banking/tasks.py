"""Celery tasks of the banking rail: take ids, load rows, call one service (STYLE.md §21).

- ``banking.bulk_credit_batch`` (bulk queue): credits a batch's items in chunks, one task per
  chunk, each chaining the next;
- ``banking.send_transfer`` (payments queue): sends a transfer, retrying an unavailable bank
  with bounded exponential backoff under the same reference;
- ``banking.callback_apply_status`` (callbacks queue): applies a verified pacs.002 callback;
- ``banking.poll_unresolved`` (beat): status queries for unknown / unsettled credits and
  transfers whose backoff has elapsed.
Every task is safe to run twice: work is claimed by a conditional transition first.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from banking.models import BankTransfer, TransferBatch, TransferBatchItem
from banking.services import (
    batch_credit_chunk,
    batch_refresh_status,
    callback_apply,
    credit_resolve,
    transfer_resolve,
    transfer_send,
)

logger = logging.getLogger("banking.tasks")

CREDIT_CHUNK_SIZE = 200
SEND_MAX_RETRIES = 5
POLL_LIMIT = 100
# A processing row untouched this long has lost its worker (crash): the poller takes it over.
STALE_PROCESSING = timedelta(seconds=30)
UNRESOLVED = ("processing", "unknown")


@shared_task(name="banking.bulk_credit_batch")
def bulk_credit_batch(batch_id: int, after_position: int = 0) -> int | None:
    last = batch_credit_chunk(batch_id=batch_id, after_position=after_position, chunk_size=CREDIT_CHUNK_SIZE)
    if last is None:
        batch_refresh_status(batch_id=batch_id)
    else:
        bulk_credit_batch.delay(batch_id, last)
    return last


@shared_task(name="banking.send_transfer", bind=True, max_retries=SEND_MAX_RETRIES)
def send_transfer(self: Any, transaction_id: int) -> None:
    retry = transfer_send(transaction_id=transaction_id, final_attempt=self.request.retries >= SEND_MAX_RETRIES)
    if retry:
        raise self.retry(countdown=min(2 ** (self.request.retries + 1), 60))


@shared_task(name="banking.callback_apply_status")
def callback_apply_status(callback_id: int) -> str:
    return callback_apply(callback_id=callback_id)


def _due(now: Any) -> Q:
    stale = Q(transaction__status="processing", transaction__updated_at__lt=now - STALE_PROCESSING)
    return (Q(transaction__status="unknown") | stale | Q(next_poll_at__isnull=False)) & (
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    )


@shared_task(name="banking.poll_unresolved")
def poll_unresolved() -> dict[str, int]:
    """Resolve what is due: unknown credits/transfers, processing ones waiting for an answer."""
    now = timezone.now()
    items = list(
        TransferBatchItem.objects.select_related("transaction", "transaction__partner")
        .filter(_due(now), transaction__status__in=UNRESOLVED)
        .order_by("next_poll_at", "pk")[:POLL_LIMIT]
    )
    for item in items:
        credit_resolve(item=item)
    for batch_id in {item.batch_id for item in items}:
        batch_refresh_status(batch_id=batch_id)
    transfers = list(
        BankTransfer.objects.select_related("transaction", "transaction__partner")
        .filter(_due(now), transaction__status__in=UNRESOLVED)
        .order_by("next_poll_at", "pk")[:POLL_LIMIT]
    )
    for transfer in transfers:
        transfer_resolve(transfer=transfer)
    _complete_finished_batches()
    return {"credits": len(items), "transfers": len(transfers)}


def _complete_finished_batches() -> None:
    """A batch whose last items were settled by the chunk task or poller is marked completed."""
    for batch_id in TransferBatch.objects.filter(status="processing").values_list("pk", flat=True)[:POLL_LIMIT]:
        batch_refresh_status(batch_id=batch_id)
