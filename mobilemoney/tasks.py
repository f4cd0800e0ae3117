"""Celery tasks of the mobile-money rail (DESIGN.md §7): ids in, rows loaded, safe to run twice.

Routing by name (config/settings.py): ``mobilemoney.callback_*`` → callbacks,
``mobilemoney.bulk_*`` → bulk, every other ``mobilemoney.*`` → payments.
"""

from __future__ import annotations

from celery import shared_task

from mobilemoney.services import cash_ins


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
    from mobilemoney.services.callbacks import callback_apply as apply

    return apply(callback_pks)


@shared_task(name="mobilemoney.checkout_refund_process")
def checkout_refund_process(checkout_session_pk: int) -> None:
    from mobilemoney.services.refunds import checkout_refund_process as process

    process(checkout_session_pk)


@shared_task(name="mobilemoney.bulk_chunk_work")
def bulk_chunk_work(chunk_pk: int) -> None:
    """Work one chunk of a cash-in batch (bulk queue)."""
    from mobilemoney.services.batch_work import chunk_work

    chunk_work(chunk_pk)


@shared_task(name="mobilemoney.bulk_sweep")
def bulk_sweep() -> int:
    """Beat: re-drive chunks whose worker died or whose retry is due; complete finished batches."""
    from mobilemoney.services.batch_work import bulk_sweep as sweep

    return sweep()


@shared_task(name="mobilemoney.checkout_sync")
def checkout_sync(checkout_session_pk: int) -> None:
    from mobilemoney.models import CheckoutSession
    from mobilemoney.services.checkout import checkout_sync as sync

    session = (
        CheckoutSession.objects.select_related("transaction", "refund_transaction")
        .filter(pk=checkout_session_pk)
        .first()
    )
    if session is not None:
        sync(session)


@shared_task(name="mobilemoney.checkout_sweep")
def checkout_sweep() -> int:
    """Beat: reconcile open sessions past their expiry (missed callbacks, provider-side expiry)."""
    from mobilemoney.services.checkout import checkout_sessions_due

    due = checkout_sessions_due()
    for pk in due:
        checkout_sync.delay(pk)
    return len(due)
