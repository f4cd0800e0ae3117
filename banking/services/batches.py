"""Batches received from partner banks (pain.001 or JSON): accept, credit in chunks, resolve.

Accepting is all or nothing: the message is parsed and checked completely (banking.iso20022)
before anything is written, then the batch, its items and one ``bank_transfer_in`` transaction
per credit transfer are inserted in bulk in one short DB transaction. Crediting happens after
commit, in chunks, through the core-banking connector (reference = the transaction's public id,
so a repeated credit is answered with the first result, never posted twice).

Ledger (issue 6): the sending partner bank is the PAYER. Its account is held for every item at
acceptance (``holds_place_bulk``: one conditional reserve of the batch total — the prefunding
check, ``InsufficientFunds`` 422 and nothing written — and one hold row per item); a credited
item captures its hold (partner -amount, core-banking float +amount), a rejected one releases it.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from banking.iso20022 import MessageTooLarge, Pain001Message, UnsupportedMessage, parse_pain001_json, parse_pain001_xml
from banking.models import BatchStatus, TransferBatch, TransferBatchItem
from banking.providers.base import CoreBankingConnector, CreditOrder, CreditResult, CreditState, error_code_for_reason
from banking.services.common import CORE_BANKING, CORE_BANKING_CODE, REVIEW_AFTER, connector_for, move, next_poll_after
from core.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    ServiceUnavailable,
)
from core.money import Money
from ledger.models import OutboxEvent, Transaction, TransactionEvent
from ledger.services import (
    account_get_or_create_partner_account,
    holds_place_bulk,
    outbox_record,
    transaction_flag_for_review,
    transaction_payload,
)
from partners.models import Partner
from partners.selectors import provider_connection_for_provider

XML_TYPES = ("application/xml", "text/xml")
JSON_TYPES = ("application/json",)
INSERT_BATCH_SIZE = 1000
UNAVAILABLE_RETRY_DELAYS = (0.5, 1.0)  # a 503 means nothing happened: retry the same reference


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
            db_transaction.on_commit(lambda: _enqueue_credit(batch.pk))
    except IntegrityError:  # the same MsgId committed by a concurrent request
        existing = TransferBatch.objects.filter(partner=partner, mode=mode, msg_id=message.msg_id).first()
        if existing is None:
            raise
        raise _duplicate(existing) from None
    return batch


def _enqueue_credit(batch_pk: int) -> None:
    from banking.tasks import bulk_credit_batch

    bulk_credit_batch.delay(batch_pk, 0)


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
    transactions: list[Transaction] = []
    items: list[TransferBatchItem] = []
    for position, (payment_info, transfer) in enumerate(message.transactions(), start=1):
        txn = Transaction(
            partner=partner,
            mode=mode,
            kind=Transaction.Kind.BANK_TRANSFER_IN,
            provider=CORE_BANKING,
            amount_minor=transfer.amount.minor,
            currency=transfer.amount.currency,
            client_reference=transfer.end_to_end_id,
            metadata={"batch_id": batch.public_id, "pmt_inf_id": payment_info.pmt_inf_id},
        )
        transactions.append(txn)
        items.append(
            TransferBatchItem(
                batch=batch,
                transaction=txn,
                position=position,
                pmt_inf_id=payment_info.pmt_inf_id,
                instr_id=transfer.instr_id or "",
                end_to_end_id=transfer.end_to_end_id,
                creditor_name=transfer.creditor_name[:140],
                creditor_account=transfer.creditor_account.identification,
                remittance_information=(transfer.remittance_information or "")[:140],
            )
        )
    _insert_transactions(transactions)
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=message.currency)
    holds_place_bulk(account=account, transactions=transactions)  # the prefunding check: all or nothing
    for item in items:
        item.transaction_id = item.transaction.pk
    TransferBatchItem.objects.bulk_create(items, batch_size=INSERT_BATCH_SIZE)
    outbox_record(
        type="transfer_batch.received", aggregate=batch, partner=partner, mode=mode, payload=batch_payload(batch)
    )
    return batch


def _insert_transactions(transactions: list[Transaction]) -> None:
    """What ``ledger.services.transaction_create`` writes for a transaction besides its hold
    (``holds_place_bulk``): the row, its first event and its ``transaction.created`` outbox row —
    in three bulk inserts instead of three statements per transaction."""
    Transaction.objects.bulk_create(transactions, batch_size=INSERT_BATCH_SIZE)
    TransactionEvent.objects.bulk_create(
        (TransactionEvent(transaction=txn, from_status="", to_status=txn.status, cause="api") for txn in transactions),
        batch_size=INSERT_BATCH_SIZE,
    )
    OutboxEvent.objects.bulk_create(
        (
            OutboxEvent(
                type="transaction.created",
                aggregate_type="transaction",
                aggregate_id=txn.public_id,
                partner=txn.partner,
                mode=txn.mode,
                payload=transaction_payload(txn),
            )
            for txn in transactions
        ),
        batch_size=INSERT_BATCH_SIZE,
    )


def batch_payload(batch: TransferBatch) -> dict[str, Any]:
    return {
        "id": batch.public_id,
        "msg_id": batch.msg_id,
        "status": batch.status,
        "nb_of_txs": batch.nb_of_txs,
        "ctrl_sum": Money(batch.ctrl_sum_minor, batch.currency).to_decimal_string(),
        "currency": batch.currency,
    }


# --- crediting ---------------------------------------------------------------------------------


def batch_credit_chunk(*, batch_id: int, after_position: int, chunk_size: int) -> int | None:
    """Credit the pending items after ``after_position`` (at most ``chunk_size``); returns the
    last position looked at, or ``None`` when the batch has no item after it. Safe to run twice:
    each item is claimed (pending → processing) before its credit, and the core answers a repeated
    reference with the first result."""
    items = list(
        TransferBatchItem.objects.select_related("transaction", "transaction__partner", "batch")
        .filter(batch_id=batch_id, position__gt=after_position)
        .order_by("position")[:chunk_size]
    )
    if not items:
        return None
    TransferBatch.objects.filter(pk=batch_id, status=BatchStatus.RECEIVED).update(status=BatchStatus.PROCESSING)
    connector: CoreBankingConnector = connector_for(CORE_BANKING_CODE, items[0].batch.mode)
    try:
        for item in items:
            if item.transaction.status == "pending" and move(item.transaction, "processing", cause="worker"):
                _credit(connector, item, cause="worker")
    finally:
        getattr(connector, "close", lambda: None)()
    return items[-1].position


def _order(item: TransferBatchItem) -> CreditOrder:
    txn = item.transaction
    return CreditOrder(
        reference=txn.public_id,
        account=item.creditor_account,
        amount=Money(txn.amount_minor, txn.currency),
        beneficiary_name=item.creditor_name,
        remittance_information=item.remittance_information,
    )


def _credit(connector: CoreBankingConnector, item: TransferBatchItem, *, cause: str) -> None:
    """Send one credit (the transaction is processing or unknown) and apply what is known."""
    order = _order(item)
    for delay in (*UNAVAILABLE_RETRY_DELAYS, None):
        try:
            result = connector.credit_account(order)
        except ProviderUnavailable as exc:
            if delay is not None:
                time.sleep(delay)
                continue
            _unresolved(item, cause=cause, message=f"core banking unavailable: {exc}", needs_review=True)
            return
        except ProviderOutcomeUnknown as exc:
            _unresolved(item, cause=cause, message=str(exc))
            return
        except ProviderRejected as exc:
            move(item.transaction, "failed", cause=cause, failure_code=exc.code, failure_message=str(exc))
            return
        _apply(item, result, cause=cause)
        return


def _unresolved(item: TransferBatchItem, *, cause: str, message: str, needs_review: bool = False) -> None:
    """The outcome is not known: ``unknown`` (never failed) and a status query scheduled."""
    changes: dict[str, Any] = {"failure_message": message[:500]}
    if needs_review:
        changes["needs_review"] = True
    if item.transaction.status == "processing":
        move(item.transaction, "unknown", cause=cause, **changes)
    _schedule_poll(item)


def _schedule_poll(item: TransferBatchItem) -> None:
    item.next_poll_at = next_poll_after(item.poll_attempts)
    item.save(update_fields=["next_poll_at"])


def _apply(item: TransferBatchItem, result: CreditResult, *, cause: str) -> None:
    txn = item.transaction
    if result.status is CreditState.POSTED:
        item.posting_reference = result.posting_reference or ""
        item.next_poll_at = None
        item.save(update_fields=["posting_reference", "next_poll_at"])
        move(txn, "succeeded", cause=cause, provider_reference=result.posting_reference or None)
    elif result.status is CreditState.REJECTED:
        item.reason_code = (result.reason_code or "MS03")[:4]
        item.next_poll_at = None
        item.save(update_fields=["reason_code", "next_poll_at"])
        move(
            txn,
            "failed",
            cause=cause,
            failure_code=error_code_for_reason(result.reason_code),
            failure_message=f"core banking rejected the credit ({item.reason_code})",
        )
    else:  # pending at the core: ask again later
        _schedule_poll(item)


def credit_resolve(*, item: TransferBatchItem) -> None:
    """One status query for an unresolved credit (poller): final answers are applied, a credit
    the core never received is sent again under the same reference, anything else waits longer
    (exponential backoff) and is flagged for review past ``REVIEW_AFTER``."""
    txn = item.transaction
    connector: CoreBankingConnector = connector_for(CORE_BANKING_CODE, txn.mode)
    item.poll_attempts += 1
    item.save(update_fields=["poll_attempts"])
    try:
        try:
            result = connector.credit_status(txn.public_id)
        except (ProviderUnavailable, ProviderRejected, ProviderOutcomeUnknown):
            result = CreditResult(reference=txn.public_id, status=CreditState.PENDING)
        if result.status is CreditState.NOT_FOUND:
            _credit(connector, item, cause="poller")
        else:
            _apply(item, result, cause="poller")
    finally:
        getattr(connector, "close", lambda: None)()
    if txn.status not in ("succeeded", "failed") and timezone.now() - txn.created_at > REVIEW_AFTER:
        transaction_flag_for_review(transaction_pk=txn.pk)


def batch_refresh_status(*, batch_id: int) -> TransferBatch:
    """``completed`` once every item is final (with an outbox event, once)."""
    batch = TransferBatch.objects.select_related("partner").get(pk=batch_id)
    open_items = TransferBatchItem.objects.filter(batch_id=batch_id).exclude(
        transaction__status__in=("succeeded", "failed")
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
