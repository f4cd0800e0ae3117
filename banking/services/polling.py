"""The rail's poller (beat, every few seconds): status queries for credits and transfers whose
answer was lost or is not final, once their backoff has elapsed (``next_poll_at``), and the
chunk task of a batch whose worker died sent again (``selectors.batches_stalled``).

Each item is guarded (``ledger.services.item_guard``, docs/conventions.md §36): one that fails unexpectedly
is logged with its transaction's id and set aside for review, the others go on, and the due
queries (banking/selectors.py) never pick a set-aside item again.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from banking import selectors
from banking.models import BatchStatus, TransferBatch
from banking.services.batches import batch_refresh_status
from banking.services.credits import credit_resolve
from banking.services.transfers import transfer_resolve
from core.tasks import enqueue
from ledger.services import item_guard

logger = logging.getLogger("banking.polling")

WORK = "banking.poll_unresolved"
POLL_LIMIT = 100  # items of each kind per run; the rest is due at the next run


def unresolved_poll() -> dict[str, int]:
    """Resolve what is due: unknown credits and transfers, processing ones waiting for an answer."""
    now = timezone.now()
    items = list(selectors.credits_due(now=now)[:POLL_LIMIT])
    for item in items:
        with item_guard(work=WORK, transaction=item.transaction, item=f"batch item {item.pk}"):
            credit_resolve(item=item)
    transfers = list(selectors.transfers_due(now=now)[:POLL_LIMIT])
    for transfer in transfers:
        with item_guard(work=WORK, transaction=transfer.transaction, item=f"transfer {transfer.pk}"):
            transfer_resolve(transfer=transfer)
    for batch_id, first_pending in selectors.batches_stalled(now=now):
        # the chunk's worker died: its chain starts again at the first pending item (items are
        # claimed one by one, so a chunk that was only slow credits nothing twice)
        logger.warning("batch %s stalled: chunk task sent again", batch_id, extra={"position": first_pending})
        enqueue("banking.bulk_credit_batch", batch_id, first_pending - 1)
    batch_ids = {item.batch_id for item in items}
    processing = TransferBatch.objects.filter(status=BatchStatus.PROCESSING).values_list("pk", flat=True)
    batch_ids.update(processing[:POLL_LIMIT])
    batches_complete(batch_ids=sorted(batch_ids))
    return {"credits": len(items), "transfers": len(transfers)}


def batches_complete(*, batch_ids: list[int]) -> None:
    """Mark completed the batches whose last items the chunk task or the poller settled."""
    for batch_id in batch_ids:
        with item_guard(work="banking.batch_refresh_status", transaction=None, item=f"batch {batch_id}"):
            batch_refresh_status(batch_id=batch_id)
