"""Creating many transactions at once: what ``transaction_create`` writes for one, in bulk.

A batch intake (a mobile-money bulk cash-in, a partner bank's pain.001) creates thousands of
transactions in one DB transaction. Row by row that is five statements each; here it is one
COPY per table (core/bulk_copy.py) — transactions, holds (ONE conditional reserve of the total,
``hold_reserve``: the all-or-nothing prefunding check), first events, outbox rows — streamed as
plain tuples from the items, with no model instance per row: ``bulk_create`` spent most of a
batch's time building instances and preparing values (docs/performance.md, P5). The rows are
the ones ``transaction_create`` writes for a single creation, with the same checks
(tests/ledger/test_bulk_copy.py compares them). Only the ledger writes these tables
(docs/architecture.md §11).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from core.bulk_copy import copy_rows, next_ids
from core.money import Money
from ledger import states
from ledger.models import Account, AccountKind, Hold, OutboxEvent, Transaction, TransactionEvent
from ledger.models.outbox import new_event_id
from ledger.models.transactions import UNIQUE_CLIENT_REFERENCE, new_transaction_id
from ledger.services.holds import hold_reserve
from ledger.services.outbox import outbox_notify_on_commit
from ledger.services.transactions import check_create, duplicate_reference, transaction_observed
from partners.models import Partner

TRANSACTION_COLUMNS = (
    "id", "public_id", "partner_id", "mode", "kind", "provider", "amount_minor", "fee_minor", "currency", "status",
    "client_reference", "metadata", "created_at", "updated_at",
)  # fmt: skip
HOLD_COLUMNS = ("transaction_id", "account_id", "amount_minor", "currency", "created_at", "updated_at")
EVENT_COLUMNS = ("transaction_id", "from_status", "to_status", "cause", "created_at")
PENDING = states.Status.PENDING.value
OUTBOX_COLUMNS = ("public_id", "type", "aggregate_type", "aggregate_id", "partner_id", "mode", "payload", "created_at")


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """One transaction of a bulk creation (slots: a batch holds up to 100,000 of them)."""

    money: Money
    client_reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    fee: Money | None = None


@dataclass(frozen=True)
class _Batch:
    """What every row of one bulk creation shares, and the ids taken for it."""

    partner: Partner
    mode: str
    kind: str
    provider: str
    items: Sequence[NewTransaction]
    ids: list[int]
    public_ids: list[str]
    now: datetime

    def rows(self) -> Iterator[tuple[int, str, NewTransaction, int]]:
        """(id, public id, item, fee in minor units) of each item, in order."""
        for pk, public_id, item in zip(self.ids, self.public_ids, self.items, strict=True):
            yield pk, public_id, item, item.fee.minor if item.fee is not None else 0


def transactions_create_bulk(
    *,
    partner: Partner,
    mode: str,
    kind: str,
    provider: str,
    items: Sequence[NewTransaction],
    hold_account: Account | None = None,
    cause: str = states.Cause.API,
) -> list[int]:
    """Create ``pending`` transactions for ``items`` with their holds, first events and outbox rows.

    All or nothing: ``InsufficientFunds`` when ``hold_account`` does not cover the total (amount
    plus fee of every item), a 409 ``duplicate_client_reference`` when a reference is taken, and
    then nothing is written. Returns the new transactions' primary keys in the order of ``items``
    (the caller's rows point at them; no instance is built).
    """
    _check(partner=partner, mode=mode, kind=kind, items=items, hold_account=hold_account)
    if not items:
        return []
    try:
        with db_transaction.atomic():
            ids, public_ids = next_ids(Transaction, len(items)), [new_transaction_id() for _ in items]
            batch = _Batch(partner, mode, kind, provider, items, ids, public_ids, now=timezone.now())
            copy_rows(Transaction, TRANSACTION_COLUMNS, _transaction_rows(batch))
            if hold_account is not None:
                _holds_place(batch, hold_account)
            first_event = ("", PENDING, states.Cause(cause).value, batch.now)
            copy_rows(TransactionEvent, EVENT_COLUMNS, ((pk, *first_event) for pk in batch.ids))
            copy_rows(OutboxEvent, OUTBOX_COLUMNS, _outbox_rows(batch))
            outbox_notify_on_commit()  # one wake-up of the relay's follower for the whole batch
            observed = Transaction(kind=kind, provider=provider, public_id=batch.public_ids[0])
            db_transaction.on_commit(
                lambda: transaction_observed(observed, from_status="", to_status=PENDING, cause=cause, count=len(items))
            )
    except IntegrityError as exc:
        if UNIQUE_CLIENT_REFERENCE not in str(exc):
            raise
        references = [item.client_reference for item in items]
        raise duplicate_reference(partner=partner, mode=mode, kind=kind, client_references=references) from None
    return batch.ids


def _check(
    *, partner: Partner, mode: str, kind: str, items: Sequence[NewTransaction], hold_account: Account | None
) -> None:
    """``transaction_create``'s checks of each item, and the hold account's kind (holds.py)."""
    if hold_account is not None and hold_account.kind != AccountKind.PARTNER:
        raise ValueError("Holds are placed on partner accounts only.")
    for item in items:
        fee = item.fee if item.fee is not None else Money.zero(item.money.currency)
        check_create(partner=partner, mode=mode, kind=kind, money=item.money, fee=fee, hold_account=hold_account)


def _transaction_rows(batch: _Batch) -> Iterator[tuple[Any, ...]]:
    for pk, public_id, item, fee_minor in batch.rows():
        yield (
            pk,
            public_id,
            batch.partner.pk,
            batch.mode,
            batch.kind,
            batch.provider,
            item.money.minor,
            fee_minor,
            item.money.currency,
            PENDING,
            item.client_reference,
            item.metadata,
            batch.now,
            batch.now,
        )


def _holds_place(batch: _Batch, account: Account) -> None:
    """ONE conditional reserve of the total (``InsufficientFunds``: the caller rolls back all),
    then one placed ``Hold`` per transaction, so each is captured or released on its own."""
    hold_reserve(account=account, amount_minor=sum(item.money.minor + fee for _, _, item, fee in batch.rows()))
    rows = (
        (pk, account.pk, item.money.minor + fee, account.currency, batch.now, batch.now)
        for pk, _, item, fee in batch.rows()
    )
    copy_rows(Hold, HOLD_COLUMNS, rows)


def _outbox_rows(batch: _Batch) -> Iterator[tuple[Any, ...]]:
    """``transaction.created`` with ``transaction_payload``'s content for each new transaction."""
    created = batch.now.isoformat()
    for _, public_id, item, fee_minor in batch.rows():
        currency = item.money.currency
        payload = {
            "id": public_id,
            "kind": batch.kind,
            "provider": batch.provider,
            "status": PENDING,
            "amount": item.money.to_decimal_string(),
            "fee": Money(fee_minor, currency).to_decimal_string(),
            "currency": currency,
            "client_reference": item.client_reference,
            "provider_reference": "",
            "failure_code": None,
            "created_at": created,
            "updated_at": created,
        }
        yield (
            new_event_id(),
            "transaction.created",
            "transaction",
            public_id,
            batch.partner.pk,
            batch.mode,
            payload,
            batch.now,
        )
