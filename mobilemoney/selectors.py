"""Reads of the mobile-money rail for the ops console: phone-number search, callbacks of a
transaction, and the progress of cash-in batches."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Count, Q, QuerySet

from ledger.models import Transaction
from ledger.states import Status
from mobilemoney.models import CashIn, CashInBatch, InboundCallback
from mobilemoney.providers.msisdn import SENEGAL_COUNTRY_CODE, is_e164

FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.REVERSED, Status.CANCELLED, Status.EXPIRED)
PROGRESS_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN, Status.PROCESSING, Status.PENDING)


def msisdn_normalise(text: str) -> str | None:
    """A phone number typed by staff in E.164, the form every MSISDN is stored in
    (``77 123 45 67``, ``00221771234567``, ``221771234567`` → ``+221771234567``); None when the
    text is not a phone number."""
    compact = re.sub(r"[\s.\-()]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif re.fullmatch(r"7[0-9]{8}", compact):
        compact = f"+{SENEGAL_COUNTRY_CODE}{compact}"
    elif re.fullmatch(rf"{SENEGAL_COUNTRY_CODE}[0-9]{{9}}", compact):
        compact = "+" + compact
    return compact if is_e164(compact) else None


def transaction_ids_for_msisdn(msisdn: str) -> QuerySet[CashIn, Any]:
    """Ids of the transactions paid to ``msisdn`` (an exact match on the indexed column)."""
    return CashIn.objects.filter(msisdn=msisdn).values("transaction_id")


def callbacks_about(transaction: Transaction) -> QuerySet[InboundCallback]:
    """The provider events applied (or flagged) about ``transaction``, oldest first."""
    return InboundCallback.objects.filter(transaction_public_id=transaction.public_id).order_by("received_at", "id")


def batches_with_progress(queryset: QuerySet[CashInBatch]) -> QuerySet[CashInBatch]:
    """Batches annotated with their items' counts per transaction status (retried items count once,
    through the item that retried them)."""
    live_items = Q(items__superseded=False)
    counts = {
        f"count_{status}": Count("items", filter=live_items & Q(items__transaction__status=status))
        for status in PROGRESS_STATUSES
    }
    return queryset.annotate(
        count_final=Count("items", filter=live_items & Q(items__transaction__status__in=FINAL_STATUSES)), **counts
    )
