"""Celery tasks of the mobile-money rail (docs/architecture.md §7): ids in, rows loaded, safe to run twice.

Routing by name (config/settings.py): ``mobilemoney.callback_*`` → callbacks,
``mobilemoney.bulk_*`` → bulk, every other ``mobilemoney.*`` → payments. Services enqueue these
by name (``core.tasks.enqueue_on_commit``) and never import this module.
"""

from __future__ import annotations

from celery import shared_task

from mobilemoney.services import batch_work, callbacks, cash_ins, checkout, refunds


@shared_task(name="mobilemoney.cash_in_process")
def cash_in_process(cash_in_pk: int) -> None:
    cash_ins.cash_in_process(cash_in_pk)


@shared_task(name="mobilemoney.cash_in_resolve")
def cash_in_resolve(cash_in_pk: int) -> None:
    cash_ins.cash_in_resolve(cash_in_pk)


@shared_task(name="mobilemoney.poll_cash_ins")
def poll_cash_ins() -> int:
    """Beat: enqueue a status resolution for every cash-in whose poll is due."""
    due = cash_ins.cash_ins_due()
    for pk in due:
        cash_in_resolve.delay(pk)
    return len(due)


@shared_task(name="mobilemoney.callback_apply")
def callback_apply(callback_pks: list[int]) -> int:
    """Apply a chunk of stored provider callback events (callbacks queue)."""
    return callbacks.callback_apply(callback_pks)


@shared_task(name="mobilemoney.checkout_refund_process")
def checkout_refund_process(checkout_session_pk: int) -> None:
    refunds.checkout_refund_process(checkout_session_pk)


@shared_task(name="mobilemoney.bulk_chunk_work")
def bulk_chunk_work(chunk_pk: int) -> None:
    """Work one chunk of a cash-in batch (bulk queue)."""
    batch_work.chunk_work(chunk_pk)


@shared_task(name="mobilemoney.bulk_sweep")
def bulk_sweep() -> int:
    """Beat: re-drive chunks whose worker died or whose retry is due; complete finished batches."""
    return batch_work.bulk_sweep()


@shared_task(name="mobilemoney.checkout_sync")
def checkout_sync(checkout_session_pk: int) -> None:
    checkout.checkout_sync_one(checkout_session_pk)


@shared_task(name="mobilemoney.checkout_sweep")
def checkout_sweep() -> int:
    """Beat: reconcile open sessions past their expiry (missed callbacks, provider-side expiry)."""
    due = checkout.checkout_sessions_due()
    for pk in due:
        checkout_sync.delay(pk)
    return len(due)
