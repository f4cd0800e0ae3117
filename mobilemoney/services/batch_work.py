"""Bulk cash-in processing: chunks on the ``bulk`` queue, a per-provider concurrency limit,
Wave's batch API when the provider has one, and a sweeper that re-drives chunks whose worker died.

Never pays twice: a Wave chunk is always submitted with the same idempotency key
(``<batch id>-<chunk number>``) and the same items, so a resubmission returns the same provider
batch; items of other providers are single cash-ins keyed by their transaction id, and those
already claimed are left to the cash-in poller (status first, then the same reference).

No worker waits: a chunk whose provider batch is not complete yet is polled once per run and
re-driven later (a task countdown by the rail's policy, and the sweeper should that be lost).
Every item runs under ``item_guard``: one item the code chokes on is set aside for staff and the
chunk goes on with the others.

Speed (docs/performance.md, P6): a chunk's claims are made together, set-based
(``transactions_claim_bulk``; should that fail, one by one, each under its own savepoint), and
the final results of a provider batch are applied in groups of up to ``APPLY_GROUP``, each group
in one DB transaction (``results_apply_bulk``: per item the same compare-and-set, event, outbox
row and capture or release as ``result_apply``), a group that fails applied again one item at a
time. An answer larger than a group is shared by a few threads. No thread but the chunk's helper
calls the provider, so the provider's concurrency limit (one slot per chunk run) is unchanged.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from contextvars import copy_context
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.db import transaction as db_transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import ProviderError, ProviderRejected
from core.outcomes import Outcome
from core.provider_calls import call_scope
from core.tasks import enqueue, enqueue_on_commit
from ledger.services import item_guard, outbox_record, transaction_claim, transactions_claim_bulk
from ledger.states import Cause, Status
from mobilemoney.connectors import connection_for
from mobilemoney.models import BatchChunk, CashIn, CashInBatch
from mobilemoney.models.batches import BatchStatus, ChunkStatus
from mobilemoney.providers.base import BatchStatus as ProviderBatchStatus
from mobilemoney.providers.base import (
    CashInBatchRequest,
    CashInRequest,
    CashInResult,
    MobileMoneyProvider,
    OperationStatus,
)
from mobilemoney.services.cash_ins import cash_in_claim_and_submit, cash_in_request, cash_in_submit
from mobilemoney.services.outcomes import outcome_settle, policy, result_apply, results_apply_bulk, schedule_poll
from partners.registry import connector_session

logger = logging.getLogger("mobilemoney.bulk")

FINAL = (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.REVERSED)
IN_FLIGHT = (Status.PENDING, Status.PROCESSING, Status.UNKNOWN)
WORK_TASK = "mobilemoney.bulk_chunk_work"
NO_SLOT_RETRY_SECONDS = 1.0
# Final results applied in one DB transaction (docs/performance.md, P6): more than the third of
# a 250-payout chunk that Wave's simulator settles per answer, so such an answer is one group,
# applied on the chunk's own thread and connection; a larger answer is shared by apply threads.
APPLY_GROUP = 100


def lease_seconds() -> float:
    return float(settings.MOBILEMONEY_BULK_LEASE_SECONDS)


def enqueue_chunks(chunk_pks: list[int]) -> None:
    """Work the chunks once the current DB transaction commits (at once outside one)."""
    for pk in chunk_pks:
        enqueue_on_commit(WORK_TASK, pk)


def _lease(chunk_pk: int) -> BatchChunk | None:
    """Take the chunk for ``lease_seconds`` (compare-and-set); None when another worker has it."""
    now = timezone.now()
    taken = BatchChunk.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=chunk_pk,
        status__in=(ChunkStatus.PENDING, ChunkStatus.SUBMITTED),
    ).update(lease_until=now + timedelta(seconds=lease_seconds()), attempts=F("attempts") + 1)
    return BatchChunk.objects.select_related("batch").get(pk=chunk_pk) if taken else None


def _renew(chunk: BatchChunk) -> None:
    BatchChunk.objects.filter(pk=chunk.pk).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds()))


def _release(chunk: BatchChunk, *, retry_in: float | None = None) -> None:
    """Give the chunk back; with ``retry_in`` it is worked again that much later (a countdown,
    and the sweeper once the lease runs out should the task be lost)."""
    until = timezone.now() + timedelta(seconds=retry_in) if retry_in is not None else None
    BatchChunk.objects.filter(pk=chunk.pk).update(lease_until=until)
    if retry_in is not None:
        enqueue(WORK_TASK, chunk.pk, countdown=retry_in)


def _slot(provider: str, limit: int) -> str | None:
    """One of ``limit`` concurrency slots of the provider (Redis, expiring with the lease)."""
    for index in range(limit):
        key = f"mm:bulk:{provider}:slot:{index}"
        if cache.add(key, 1, timeout=int(lease_seconds()) + 5):
            return key
    return None


def _items(chunk: BatchChunk) -> list[CashIn]:
    """The chunk's items still worth working (set-aside ones are left to staff); with each
    transaction's partner, which every status change names in its outbox row (one query less per
    change)."""
    return list(
        CashIn.objects.filter(chunk=chunk, transaction__set_aside_at__isnull=True)
        .select_related("transaction__partner")
        .order_by("line")
    )


def _guard(cash_in: CashIn, work: str) -> AbstractContextManager[None]:
    return item_guard(work=work, transaction=cash_in.transaction, item=f"cash-in {cash_in.pk}")


def _work_single(chunk: BatchChunk, connector: MobileMoneyProvider) -> bool:
    """One cash-in per item (Orange Money); True when no item is left pending."""
    for cash_in in _items(chunk):
        if cash_in.transaction.status == Status.PENDING:
            with _guard(cash_in, "mobilemoney.bulk_item_submit"):
                cash_in_claim_and_submit(cash_in, connector)
            _renew(chunk)
    return True


def _claim(cash_in: CashIn) -> None:
    """pending → processing before the batch is sent (no poll scheduled: a single payout for an
    item the provider batch may pay would not share its idempotency)."""
    transaction_claim(transaction=cash_in.transaction)  # False: claimed by an earlier run, or settled


def _requests(items: list[CashIn]) -> list[tuple[CashIn, CashInRequest]]:
    """The items the provider can be sent, claimed; an item whose request cannot be built is set aside.

    All the claims commit together, before the provider is called: set-based first
    (``transactions_claim_bulk``: one compare-and-set UPDATE, one INSERT of the events and one of
    the outbox rows for the chunk); should that fail, one by one, each item under its own
    savepoint, so that an item that fails rolls back alone and is set aside, and the others are
    still claimed."""
    try:
        return _requests_together(items)
    except Exception:
        logger.warning("claims made one by one", exc_info=True, extra={"items": len(items)})
    return _requests_one_by_one(items)


def _requests_together(items: list[CashIn]) -> list[tuple[CashIn, CashInRequest]]:
    ready = [(cash_in, cash_in_request(cash_in)) for cash_in in items]
    with db_transaction.atomic():
        _claim_all([cash_in for cash_in in items if cash_in.transaction.status == Status.PENDING])
    return ready


def _claim_all(items: list[CashIn]) -> None:
    """pending → processing for every item, set-based (see ``_claim``); a transaction not moved
    was claimed by an earlier run, settled, or set aside."""
    if items:
        transactions_claim_bulk([cash_in.transaction for cash_in in items], cause=Cause.WORKER)


def _requests_one_by_one(items: list[CashIn]) -> list[tuple[CashIn, CashInRequest]]:
    ready = []
    with db_transaction.atomic():
        for cash_in in items:
            with _guard(cash_in, "mobilemoney.bulk_item_prepare"), db_transaction.atomic():
                request = cash_in_request(cash_in)
                if cash_in.transaction.status == Status.PENDING:
                    _claim(cash_in)
                ready.append((cash_in, request))
    return ready


def _submit_provider_batch(chunk: BatchChunk, connector: MobileMoneyProvider, items: list[CashIn]) -> bool:
    """Send the chunk as one provider batch; True once the provider holds it (or nothing is left)."""
    ready = _requests(items)
    if not ready:
        return True
    request = CashInBatchRequest(
        reference=f"{chunk.batch.public_id}-{chunk.number}", items=tuple(request for _, request in ready)
    )
    try:
        with call_scope(reference=request.reference):
            submission = connector.cash_in_batch(request)
    except ProviderRejected as exc:
        _refused_batch(chunk, connector, [cash_in for cash_in, _ in ready], exc)
        return True
    except ProviderError as exc:  # unknown or unavailable: resubmit later with the same key
        logger.warning("batch submission to retry", extra={"chunk": chunk.pk, "error": exc.message})
        return False
    chunk.provider_batch_id, chunk.status = submission.batch_id, ChunkStatus.SUBMITTED
    chunk.save(update_fields=["provider_batch_id", "status"])
    return True


def _refused_batch(
    chunk: BatchChunk, connector: MobileMoneyProvider, items: list[CashIn], error: ProviderRejected
) -> None:
    """A batch refused for good moved nothing. Its items are sent one by one under their own
    references, so that only the item the provider refuses fails (issue 16) — unless the refusal
    is an idempotency mismatch (an earlier batch under this key may have paid): then each item
    is only asked about, by the poller, never sent again."""
    BatchChunk.objects.filter(pk=chunk.pk).update(status=ChunkStatus.DONE)  # never sent as a batch again
    logger.warning("batch refused; items sent one by one", extra={"chunk": chunk.pk, "error": error.message})
    mismatch = error.provider_code == "idempotency-mismatch"
    for cash_in in items:  # from here on the poller may ask about them: no batch will pay them
        schedule_poll(cash_in)
    for cash_in in items:
        with _guard(cash_in, "mobilemoney.bulk_item_submit"):
            if mismatch or len(items) == 1:
                outcome = Outcome.unknown(error.message) if mismatch else Outcome.from_error(error)
                outcome_settle(cash_in, outcome, cause=Cause.WORKER)
            else:
                cash_in_submit(cash_in, connector, cause=Cause.WORKER)
            _renew(chunk)


def _poll_provider_batch(chunk: BatchChunk, connector: MobileMoneyProvider, items: list[CashIn]) -> bool:
    """Apply the final item results of the provider batch; True when complete.

    While an answer brings news, the next status query is already on its way (on a helper
    thread: still the chunk's one call in flight) while the news is applied, so a batch the
    provider settles quickly is followed in this run instead of one task run and one backoff per
    answer. An answer with nothing new ends the run; the policy's backoff decides the next."""
    by_reference = {c.transaction.public_id: c for c in items}
    status = _batch_status(chunk, connector)
    ahead = not connection.in_atomic_block  # another connection could not see a caller's rows
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-poll") as pool:
        try:
            while status is not None:
                final = _news(status, by_reference)
                following = None
                if ahead and final and not status.is_complete:
                    following = pool.submit(copy_context().run, _batch_status, chunk, connector)
                _apply_results(final)
                if following is None:
                    return status.is_complete
                _renew(chunk)
                status = following.result()
        finally:  # the helper's DB connection (the calls' records) served the whole run: closed on its thread
            pool.submit(connections.close_all).result()
    return False


def _batch_status(chunk: BatchChunk, connector: MobileMoneyProvider) -> ProviderBatchStatus | None:
    """One status query of the chunk's provider batch; None when the provider did not answer."""
    try:
        with call_scope(reference=f"{chunk.batch.public_id}-{chunk.number}"):
            return connector.cash_in_batch_status(chunk.provider_batch_id)
    except ProviderError as exc:
        logger.warning("batch status unavailable", extra={"chunk": chunk.pk, "error": exc.message})
        return None


def _news(status: ProviderBatchStatus, by_reference: dict[str, CashIn]) -> list[tuple[CashIn, CashInResult]]:
    """The final results of items still in flight here (an item settled by an earlier answer is left)."""
    final = []
    for result in status.items:
        cash_in = by_reference.get(result.reference)
        if cash_in is not None and result.status in FINAL and cash_in.transaction.status in IN_FLIGHT:
            final.append((cash_in, result))
    return final


def _apply_results(final: list[tuple[CashIn, CashInResult]]) -> None:
    """Apply the provider's final results in groups of ``APPLY_GROUP``, each in its own DB
    transaction (``results_apply_bulk``), on up to ``MOBILEMONEY_BULK_APPLY_THREADS`` threads (no
    more threads than groups: each opens a DB connection). Inside a caller's DB transaction they
    are applied here, one group after the other: another connection could not see its rows."""
    groups = [final[start : start + APPLY_GROUP] for start in range(0, len(final), APPLY_GROUP)]
    threads = min(int(settings.MOBILEMONEY_BULK_APPLY_THREADS), len(groups))
    if threads <= 1 or connection.in_atomic_block:
        _apply_groups(groups)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bulk-apply") as pool:
        # each thread its own copy of the log context (a context is entered by one thread at a time)
        slices = [pool.submit(copy_context().run, _apply_in_thread, groups[i::threads]) for i in range(threads)]
    for done in slices:
        done.result()  # what escaped item_guard (a worker being stopped) is raised here


def _apply_groups(groups: list[list[tuple[CashIn, CashInResult]]]) -> None:
    """Each group in one DB transaction (``results_apply_bulk``); what a group leaves — items it
    does not take, items another writer moved first, or every item of a group that raised
    (rolled back, nothing written) — is applied one by one."""
    for group in groups:
        try:
            left = results_apply_bulk(group, cause=Cause.WORKER)
        except Exception:
            logger.warning("a group of results applied one by one", exc_info=True, extra={"items": len(group)})
            left = group
        _apply_one_by_one(left)


def _apply_in_thread(groups: list[list[tuple[CashIn, CashInResult]]]) -> None:
    """Groups on a pool thread, whose DB connection is closed when they are done."""
    try:
        _apply_groups(groups)
    finally:
        connections.close_all()


def _apply_one_by_one(final: list[tuple[CashIn, CashInResult]]) -> None:
    for cash_in, result in final:
        with _guard(cash_in, "mobilemoney.bulk_item_result"):
            result_apply(cash_in, result, cause=Cause.WORKER)


def _work_provider_batch(chunk: BatchChunk, connector: MobileMoneyProvider) -> bool:
    if not chunk.provider_batch_id and not _submit_provider_batch(chunk, connector, _items(chunk)):
        return False
    chunk.refresh_from_db(fields=["status", "provider_batch_id"])
    if chunk.status == ChunkStatus.DONE or not chunk.provider_batch_id:
        return True
    return _poll_provider_batch(chunk, connector, _items(chunk))


def chunk_work(chunk_pk: int) -> None:
    """Work one chunk under its lease and a provider slot; safe to run twice or concurrently.
    A provider batch not complete yet is polled again later (``_release`` with a delay)."""
    chunk = _lease(chunk_pk)
    if chunk is None:
        return
    batch = chunk.batch
    connection = connection_for(provider=batch.provider, mode=batch.mode)
    slot = _slot(batch.provider, int((connection.limits or {}).get("bulk_concurrency", 2)))
    if slot is None:  # not a try: the attempts count only the runs that reached the provider
        BatchChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") - 1)
        _release(chunk, retry_in=NO_SLOT_RETRY_SECONDS)
        return
    try:
        with connector_session(connection) as connector:
            work = _work_provider_batch if connector.supports_batch else _work_single
            done = work(chunk, connector)
        if done:
            BatchChunk.objects.filter(pk=chunk.pk).update(status=ChunkStatus.DONE, lease_until=None)
        else:
            # The first run submits; each later one is a status query, backed off by the policy.
            _release(chunk, retry_in=policy(batch.mode).delay(max(chunk.attempts - 2, 0)))
    finally:
        cache.delete(slot)
    batch_refresh(batch)


def batch_refresh(batch: CashInBatch) -> bool:
    """Complete the batch once every item is final (once: a compare-and-set)."""
    if CashIn.objects.filter(batch=batch, transaction__status__in=IN_FLIGHT).exists():
        return False
    with db_transaction.atomic():
        moved = CashInBatch.objects.filter(pk=batch.pk, status=BatchStatus.PROCESSING).update(
            status=BatchStatus.COMPLETED, completed_at=timezone.now()
        )
        if moved:
            outbox_record(
                type="cash_in_batch.completed",
                aggregate=batch,
                partner=batch.partner,
                mode=batch.mode,
                payload={"id": batch.public_id, "status": BatchStatus.COMPLETED},
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
            status__in=(ChunkStatus.PENDING, ChunkStatus.SUBMITTED),
            batch__status=BatchStatus.PROCESSING,
            batch__created_at__lt=settle,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in due:
        enqueue(WORK_TASK, pk)
    for batch in CashInBatch.objects.filter(status=BatchStatus.PROCESSING).select_related("partner")[:100]:
        batch_refresh(batch)
    return len(due)
