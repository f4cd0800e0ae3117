"""Batches received from partner banks (pain.001 or JSON): accept, credit in chunks, resolve.

Accepting is all or nothing: the message is parsed and checked completely (banking.iso20022)
before anything is written, then the batch, its items and one ``bank_transfer_in`` transaction
per credit transfer are created in bulk by the ledger (``transactions_create_bulk``) in one short
DB transaction, every table written with COPY (core/bulk_copy.py; the items here). Crediting
happens after commit, in chunks (banking/services/credits.py).

Ledger (issue 6): the sending partner bank is the PAYER. Its account is held for every item at
acceptance (``transactions_create_bulk`` → ``hold_reserve``: one conditional reserve of the
batch total — the prefunding check, ``InsufficientFunds`` 422 and nothing written — and one hold
row per item); a credited item captures its hold (partner -amount, core-banking float +amount), a
rejected one releases it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from banking.iso20022 import MessageTooLarge, Pain001Message, UnsupportedMessage, parse_pain001_json, parse_pain001_xml
from banking.models import BatchStatus, TransferBatch, TransferBatchItem
from banking.services.common import CORE_BANKING, CORE_BANKING_CODE
from core.bulk_copy import copy_rows
from core.errors import Conflict, ErrorCode, NotFound, ServiceUnavailable
from core.money import Money
from core.tasks import enqueue_on_commit
from ledger.models import Transaction
from ledger.services import (
    NewTransaction,
    account_get_or_create_partner_account,
    outbox_record,
    transactions_create_bulk,
)
from ledger.states import Cause, Status
from partners.models import Partner
from partners.selectors import provider_connection_for_provider

XML_TYPES = ("application/xml", "text/xml")
JSON_TYPES = ("application/json",)
ITEM_COLUMNS = (
    "batch_id", "transaction_id", "position", "pmt_inf_id", "instr_id", "end_to_end_id", "creditor_name",
    "creditor_account", "remittance_information",
)  # fmt: skip


def _parse(body: bytes, content_type: str) -> Pain001Message:
    """Our size limit first (the auth layer already read the body under Django's, which is set
    to the same value), then the reader of the declared media type."""
    limit = settings.BANKING_BATCH_MAX_BYTES
    if len(body) > limit:
        raise MessageTooLarge(f"The message is larger than the {limit:,}-byte limit; it was not parsed.")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in XML_TYPES:
        return parse_pain001_xml(body, max_bytes=limit)
    if media_type in JSON_TYPES:
        return parse_pain001_json(body, max_bytes=limit)
    raise UnsupportedMessage(
        "Send a pain.001.001.03/.09 as application/xml or the JSON batch as application/json.",
        code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        status=415,
    )


def _duplicate(batch: TransferBatch) -> Conflict:
    return Conflict(
        f"A batch with MsgId {batch.msg_id!r} was already received as {batch.public_id}; nothing was created.",
        code=ErrorCode.DUPLICATE,
        extra={"batch_id": batch.public_id},
    )


def _require_core_banking(mode: str) -> None:
    try:
        provider_connection_for_provider(provider_code=CORE_BANKING_CODE, mode=mode)
    except NotFound:
        raise ServiceUnavailable(
            "Incoming bank transfers are not available: no core-banking connection.",
            code=ErrorCode.PROVIDER_NOT_CONFIGURED,
        ) from None


def batch_receive(*, partner: Partner, mode: str, body: bytes, content_type: str) -> TransferBatch:
    """Check a received batch completely, then record it (batch, items, transactions, holds) at once.

    Raises the banking.iso20022 errors (413, 400, 422 with every problem), ``Conflict`` (409,
    ``batch_id`` of the first one) for a MsgId already received, ``ServiceUnavailable`` without a
    core-banking connection, ``InsufficientFunds`` (422) when the partner's available balance does
    not cover the batch total — in every case nothing was written. Crediting starts after commit.
    """
    message = _parse(body, content_type)
    _require_core_banking(mode)
    existing = TransferBatch.objects.filter(partner=partner, mode=mode, msg_id=message.msg_id).first()
    if existing is not None:
        raise _duplicate(existing)
    try:
        with db_transaction.atomic():
            batch = _record(partner=partner, mode=mode, message=message)
            enqueue_on_commit("banking.bulk_credit_batch", batch.pk, 0)
    except IntegrityError:  # the same MsgId committed by a concurrent request
        existing = TransferBatch.objects.filter(partner=partner, mode=mode, msg_id=message.msg_id).first()
        if existing is None:
            raise
        raise _duplicate(existing) from None
    return batch


def _record(*, partner: Partner, mode: str, message: Pain001Message) -> TransferBatch:
    batch = TransferBatch.objects.create(
        partner=partner,
        mode=mode,
        msg_id=message.msg_id,
        message_name=message.message_name,
        original_created_at=message.creation_datetime,
        initiating_party=message.initiating_party[:140],
        nb_of_txs=message.nb_of_txs,
        ctrl_sum_minor=message.ctrl_sum_minor,
        currency=message.currency,
    )
    entries = list(message.transactions())
    # one metadata dict per payment information, shared by its transactions (only read: copied as JSON)
    metadata = {p.pmt_inf_id: {"batch_id": batch.public_id, "pmt_inf_id": p.pmt_inf_id} for p in message.payment_infos}
    # The ledger writes the transactions, their holds (the prefunding check: all or nothing),
    # first events and outbox rows in bulk (ledger/services/bulk.py).
    transaction_ids = transactions_create_bulk(
        partner=partner,
        mode=mode,
        kind=Transaction.Kind.BANK_TRANSFER_IN,
        provider=CORE_BANKING,
        items=[
            NewTransaction(
                money=transfer.amount,
                client_reference=transfer.end_to_end_id,
                metadata=metadata[payment_info.pmt_inf_id],
            )
            for payment_info, transfer in entries
        ],
        hold_account=account_get_or_create_partner_account(partner=partner, mode=mode, currency=message.currency),
        cause=Cause.API,
    )
    copy_rows(
        TransferBatchItem,
        ITEM_COLUMNS,
        (
            (
                batch.pk,
                transaction_id,
                position,
                payment_info.pmt_inf_id,
                transfer.instr_id or "",
                transfer.end_to_end_id,
                transfer.creditor_name[:140],
                transfer.creditor_account.identification,
                (transfer.remittance_information or "")[:140],
            )
            for position, ((payment_info, transfer), transaction_id) in enumerate(
                zip(entries, transaction_ids, strict=True), start=1
            )
        ),
    )
    outbox_record(
        type="transfer_batch.received", aggregate=batch, partner=partner, mode=mode, payload=batch_payload(batch)
    )
    return batch


def batch_payload(batch: TransferBatch) -> dict[str, Any]:
    return {
        "id": batch.public_id,
        "msg_id": batch.msg_id,
        "status": batch.status,
        "nb_of_txs": batch.nb_of_txs,
        "ctrl_sum": Money(batch.ctrl_sum_minor, batch.currency).to_decimal_string(),
        "currency": batch.currency,
    }


def batch_refresh_status(*, batch_id: int) -> TransferBatch:
    """``completed`` once every item is final (with an outbox event, once)."""
    batch = TransferBatch.objects.select_related("partner").get(pk=batch_id)
    open_items = TransferBatchItem.objects.filter(batch_id=batch_id).exclude(
        transaction__status__in=(Status.SUCCEEDED, Status.FAILED)
    )
    if batch.status == BatchStatus.COMPLETED or open_items.exists():
        return batch
    with db_transaction.atomic():
        changed = (
            TransferBatch.objects.filter(pk=batch_id)
            .exclude(status=BatchStatus.COMPLETED)
            .update(status=BatchStatus.COMPLETED, completed_at=timezone.now())
        )
        if changed:
            batch.refresh_from_db()
            outbox_record(
                type="transfer_batch.completed",
                aggregate=batch,
                partner=batch.partner,
                mode=batch.mode,
                payload=batch_payload(batch),
            )
    return batch
