"""Reads of the banking rail: batches, their items and status report, transfers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from banking.iso20022 import (
    PaymentInfoStatusReport,
    StatusReason,
    StatusReport,
    TransactionStatus,
    TransactionStatusReport,
    render_pain002,
)
from banking.models import BankTransfer, BatchStatus, TransferBatch, TransferBatchItem
from core.ids import ulid
from ledger.states import Status
from partners.models import Partner

# How far each ledger status has gone, in pain.002 words.
ITEM_STATUS: dict[str, TransactionStatus] = {
    Status.PENDING: TransactionStatus.ACCEPTED,
    Status.PROCESSING: TransactionStatus.ACCEPTED_SETTLEMENT_IN_PROCESS,
    Status.UNKNOWN: TransactionStatus.ACCEPTED_SETTLEMENT_IN_PROCESS,
    Status.SUCCEEDED: TransactionStatus.ACCEPTED_SETTLEMENT_COMPLETED,
    Status.FAILED: TransactionStatus.REJECTED,
}
IN_FLIGHT = (Status.PROCESSING, Status.UNKNOWN)
# A processing row untouched this long has lost its worker (a crash between claim and answer):
# the poller takes it over. Not a backoff: rows waiting for an answer carry ``next_poll_at``.
STALE_PROCESSING = timedelta(seconds=30)


def batch_get(*, partner: Partner, mode: str, public_id: str) -> TransferBatch | None:
    return TransferBatch.objects.filter(partner=partner, mode=mode, public_id=public_id).first()


def batch_items(*, batch: TransferBatch) -> QuerySet[TransferBatchItem]:
    return TransferBatchItem.objects.filter(batch=batch).select_related("transaction").order_by("position")


@dataclass(frozen=True)
class BatchProgress:
    total: int
    pending: int  # not credited yet (pending, processing or unknown)
    succeeded: int
    failed: int
    credited_minor: int
    rejected_minor: int


def batch_progress(*, batch: TransferBatch) -> BatchProgress:
    succeeded, failed = Q(transaction__status=Status.SUCCEEDED), Q(transaction__status=Status.FAILED)
    counts = TransferBatchItem.objects.filter(batch=batch).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=~(succeeded | failed)),
        succeeded=Count("pk", filter=succeeded),
        failed=Count("pk", filter=failed),
        credited=Sum("transaction__amount_minor", filter=succeeded, default=0),
        rejected=Sum("transaction__amount_minor", filter=failed, default=0),
    )
    return BatchProgress(
        total=counts["total"],
        pending=counts["open"],
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        credited_minor=counts["credited"],
        rejected_minor=counts["rejected"],
    )


def _transaction_report(item: TransferBatchItem) -> TransactionStatusReport:
    status = ITEM_STATUS.get(item.transaction.status, TransactionStatus.PENDING)
    reasons: tuple[StatusReason, ...] = ()
    if status is TransactionStatus.REJECTED:
        reasons = (StatusReason(item.reason_code or "MS03", item.transaction.failure_message[:105]),)
    return TransactionStatusReport(
        end_to_end_id=item.end_to_end_id,
        status=status,
        instr_id=item.instr_id or None,
        reasons=reasons,
        account_servicer_reference=item.posting_reference or None,
        amount_minor=item.transaction.amount_minor,
    )


def batch_status_report(*, batch: TransferBatch, bank_name: str = "Addon Partner") -> bytes:
    """The batch's pain.002 (v03 for a v03 message, v10 otherwise): group, payment-information
    and transaction statuses (derived from the items) with each rejection's ISO reason."""
    by_payment: dict[str, list[TransactionStatusReport]] = {}
    for item in batch_items(batch=batch).iterator(chunk_size=2000):
        by_payment.setdefault(item.pmt_inf_id, []).append(_transaction_report(item))
    report = StatusReport(
        msg_id="RPT" + ulid(),
        creation_datetime=timezone.now(),
        original_msg_id=batch.msg_id,
        original_message_name=batch.message_name if batch.message_name.startswith("pain.") else "pain.001.001.09",
        currency=batch.currency,
        original_creation_datetime=batch.original_created_at,
        original_nb_of_txs=batch.nb_of_txs,
        original_ctrl_sum_minor=batch.ctrl_sum_minor,
        payment_infos=tuple(
            PaymentInfoStatusReport(
                pmt_inf_id=pmt_inf_id,
                transactions=tuple(reports),
                original_nb_of_txs=len(reports),
                original_ctrl_sum_minor=sum(r.amount_minor or 0 for r in reports),
            )
            for pmt_inf_id, reports in by_payment.items()
        ),
        initiating_party_name=bank_name,
    )
    version = "pain.002.001.03" if batch.message_name == "pain.001.001.03" else "pain.002.001.10"
    return render_pain002(report, message_name=version)


def transfer_get(*, partner: Partner, mode: str, public_id: str) -> BankTransfer | None:
    return (
        BankTransfer.objects.select_related("transaction")
        .filter(transaction__partner=partner, transaction__mode=mode, transaction__public_id=public_id)
        .first()
    )


def _due(now: datetime) -> Q:
    """In flight, not set aside, and either unknown, waiting for its (elapsed) next status query,
    or processing with no sign of life for ``STALE_PROCESSING``."""
    stale = Q(transaction__status=Status.PROCESSING, transaction__updated_at__lt=now - STALE_PROCESSING)
    waiting = Q(transaction__status=Status.UNKNOWN) | stale | Q(next_poll_at__isnull=False)
    return (
        Q(transaction__status__in=IN_FLIGHT, transaction__set_aside_at__isnull=True)
        & waiting
        & (Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
    )


def credits_due(*, now: datetime) -> QuerySet[TransferBatchItem]:
    """Batch items whose credit the poller should ask the core about now (oldest due first)."""
    return (
        TransferBatchItem.objects.select_related("transaction", "transaction__partner")
        .filter(_due(now))
        .order_by("next_poll_at", "pk")
    )


def batches_stalled(*, now: datetime) -> list[tuple[int, int]]:
    """(batch id, first pending position) of batches with pending items and no sign of life for
    ``STALE_PROCESSING``: the worker holding their chunk died (its message would come back only
    after the broker's visibility timeout)."""
    quiet = now - STALE_PROCESSING
    pending = (
        TransferBatchItem.objects.filter(
            batch__status__in=(BatchStatus.RECEIVED, BatchStatus.PROCESSING),
            batch__created_at__lt=quiet,
            transaction__status=Status.PENDING,
            transaction__set_aside_at__isnull=True,
        )
        .values("batch_id")
        .annotate(first=Min("position"))
        .values_list("batch_id", "first")
    )
    alive = set(TransferBatchItem.objects.filter(transaction__updated_at__gte=quiet).values_list("batch_id", flat=True))
    return [(batch_id, first) for batch_id, first in pending[:100] if batch_id not in alive]


def transfers_due(*, now: datetime) -> QuerySet[BankTransfer]:
    """Transfers out the poller should ask the partner bank about now (oldest due first)."""
    return (
        BankTransfer.objects.select_related("transaction", "transaction__partner")
        .filter(_due(now))
        .order_by("next_poll_at", "pk")
    )


PROGRESS_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN, Status.PROCESSING, Status.PENDING)
FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.REVERSED, Status.CANCELLED, Status.EXPIRED)


def batches_with_progress(queryset: QuerySet[TransferBatch]) -> QuerySet[TransferBatch]:
    """Batches annotated with their items' counts per transaction status (the ops console's bars)."""
    counts = {
        f"count_{status}": Count("items", filter=Q(items__transaction__status=status)) for status in PROGRESS_STATUSES
    }
    final = Count("items", filter=Q(items__transaction__status__in=FINAL_STATUSES))
    return queryset.annotate(count_final=final, **counts)


def transfer_rows_about(transaction_id: int) -> tuple[BankTransfer | None, TransferBatchItem | None]:
    """The banking rail's row of a transaction: the transfer sent, or the batch item credited."""
    transfer = BankTransfer.objects.filter(transaction_id=transaction_id).first()
    item = TransferBatchItem.objects.filter(transaction_id=transaction_id).select_related("batch").first()
    return transfer, item
