"""Celery tasks of the banking rail: take ids, load rows, call one service (docs/conventions.md §21).

- ``banking.bulk_credit_batch`` (bulk queue): credits a batch's items in chunks, one task per
  chunk, each chaining the next;
- ``banking.send_transfer`` (payments queue): sends a transfer once; an unavailable bank is
  retried by the poller under the same reference, after the rail's backoff (core/policy.py);
- ``banking.callback_apply_status`` (callbacks queue): applies a verified pacs.002 callback;
- ``banking.poll_unresolved`` (beat): status queries for unknown / unsettled credits and
  transfers whose backoff has elapsed.
Every task is safe to run twice: work is claimed by a conditional transition first. Services
enqueue these by name (``core.tasks.enqueue_on_commit``) and never import this module.
"""

from __future__ import annotations

from celery import shared_task

from banking.services import (
    batch_credit_chunk,
    batch_refresh_status,
    callback_apply,
    transfer_send,
    unresolved_poll,
)

CREDIT_CHUNK_SIZE = 200


@shared_task(name="banking.bulk_credit_batch")
def bulk_credit_batch(batch_id: int, after_position: int = 0) -> int | None:
    last = batch_credit_chunk(batch_id=batch_id, after_position=after_position, chunk_size=CREDIT_CHUNK_SIZE)
    if last is None:
        batch_refresh_status(batch_id=batch_id)
    else:
        bulk_credit_batch.delay(batch_id, last)
    return last


@shared_task(name="banking.send_transfer")
def send_transfer(transaction_id: int) -> None:
    transfer_send(transaction_id=transaction_id)


@shared_task(name="banking.callback_apply_status")
def callback_apply_status(callback_id: int) -> str:
    return callback_apply(callback_id=callback_id)


@shared_task(name="banking.poll_unresolved")
def poll_unresolved() -> dict[str, int]:
    """Resolve what is due: unknown credits/transfers, processing ones waiting for an answer."""
    return unresolved_poll()
