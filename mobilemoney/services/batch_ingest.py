"""Bulk cash-in acceptance: every item validated first (all errors in one problem), the
prefunding check, then the batch, its chunks and items, with their transactions, holds, events
and outbox rows created in bulk by the ledger (``ledger.services.transactions_create_bulk``) in
one DB transaction.

Ledger: one hold per item (so each item is captured or released on its own by
``transaction_transition``), with the partner account's ``held_minor`` raised ONCE by the batch
total through the same conditional UPDATE that is the funds check of a single cash-in, so a
batch that does not fit the available balance is refused whole (the DB transaction rolls back)
and writes nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import transaction as db_transaction

from core.bulk_copy import copy_rows
from core.errors import FieldError, ValidationFailed
from ledger.models import Account, Kind
from ledger.services import (
    NewTransaction,
    account_get_or_create_partner_account,
    outbox_record,
    transactions_create_bulk,
)
from mobilemoney.connectors import connection_for
from mobilemoney.models import BatchChunk, CashIn, CashInBatch
from mobilemoney.serializers import items_validate
from mobilemoney.services.batch_work import enqueue_chunks
from mobilemoney.validation import CashInInput
from partners.limits import limit_allowance
from partners.models import Partner, Rail

CHUNK_SIZE = 250  # items per bulk task (docs/architecture.md §7: hundreds, never one task per item)
CASH_IN_COLUMNS = (
    "transaction_id", "provider", "msisdn", "recipient_name", "reason", "batch_id", "chunk_id", "line", "retry_of_id",
)  # fmt: skip
CSV_COLUMNS = ("msisdn", "amount", "currency", "client_reference", "recipient_name", "reason")


def items_from_csv(text: str) -> tuple[list[Any], list[str]]:
    """Rows of a CSV upload (header line first); error fields name the file line (``line 4``)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed("Bad CSV header.", errors=[FieldError("line 1", f"missing columns {missing}")])
    rows = [{k: v for k, v in row.items() if k in CSV_COLUMNS and v != ""} for row in reader]
    if not rows:
        raise ValidationFailed("A batch needs items.", errors=[FieldError("line 2", "no rows")])
    return rows, [f"line {i + 2}." for i in range(len(rows))]


def validate_items(items: list[Any], prefixes: list[str]) -> list[CashInInput]:
    """Every item checked, all errors at once (``mobilemoney.serializers.items_validate``)."""
    return items_validate(items, prefixes)


def insert_items(
    *,
    batch: CashInBatch,
    items: list[CashInInput],
    lines: list[int],
    account: Account | None = None,
    retry_of: list[CashIn] | None = None,
) -> list[int]:
    """Insert items with their transactions, holds, events and outbox rows (COPY, core/bulk_copy.py)
    in the caller's DB transaction, their total held on the partner's account in one conditional
    reserve (``InsufficientFunds`` otherwise: the caller rolls back). Returns the new chunks' ids."""
    partner, mode, provider, currency = batch.partner, batch.mode, batch.provider, batch.currency
    if account is None:
        account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=currency)
    amounts = [item.money.minor for item in items]
    limit_allowance(partner=partner, mode=mode, rail=Rail.MOBILE_MONEY, currency=currency, amounts=amounts).consume()
    transaction_ids = transactions_create_bulk(
        partner=partner,
        mode=mode,
        kind=Kind.CASH_IN,
        provider=provider,
        items=[
            NewTransaction(
                money=item.money,
                client_reference=item.client_reference,
                metadata={"msisdn": item.msisdn, "batch": batch.public_id, "line": line},
            )
            for line, item in zip(lines, items, strict=True)
        ],
        hold_account=account,
    )
    first = BatchChunk.objects.filter(batch=batch).order_by("-number").values_list("number", flat=True).first()
    start = 0 if first is None else first + 1
    chunks = BatchChunk.objects.bulk_create(
        BatchChunk(batch=batch, number=start + n) for n in range((len(items) + CHUNK_SIZE - 1) // CHUNK_SIZE)
    )
    retried = [c.pk for c in retry_of] if retry_of else [None] * len(items)
    copy_rows(
        CashIn,
        CASH_IN_COLUMNS,
        (
            (
                pk,
                provider,
                item.msisdn,
                item.recipient_name,
                item.reason,
                batch.pk,
                chunks[n // CHUNK_SIZE].pk,
                line,
                retried_pk,
            )
            for n, (pk, item, line, retried_pk) in enumerate(zip(transaction_ids, items, lines, retried, strict=True))
        ),
    )
    return [c.pk for c in chunks]


def batch_create(*, partner: Partner, mode: str, provider: str, items: list[CashInInput]) -> CashInBatch:
    """Accept a validated batch whole, or nothing (``InsufficientFunds``: everything rolled back)."""
    currency = items[0].money.currency
    connection_for(provider=provider, mode=mode, currency=currency)
    total = sum(item.money.minor for item in items)
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=currency)
    with db_transaction.atomic():
        batch = CashInBatch.objects.create(
            partner=partner, mode=mode, provider=provider, item_count=len(items), total_minor=total, currency=currency
        )
        chunks = insert_items(batch=batch, items=items, lines=list(range(len(items))), account=account)
        outbox_record(
            type="cash_in_batch.created",
            aggregate=batch,
            partner=partner,
            mode=mode,
            payload={"id": batch.public_id, "items": len(items), "total_minor": total, "currency": currency},
        )
        enqueue_chunks(chunks)  # after commit
    return batch
