"""Creating many transactions at once: what ``transaction_create`` writes for one, in bulk.

A batch intake (a mobile-money bulk cash-in, a partner bank's pain.001) creates thousands of
transactions in one DB transaction. Row by row that is five statements each; here it is one
bulk INSERT per table — transactions, holds (``holds_place_bulk``: ONE conditional reserve of
the total, the all-or-nothing prefunding check), events, outbox rows — and the same checks as a
single creation. Only the ledger writes these tables (docs/architecture.md §11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError
from django.db import transaction as db_transaction

from core.money import Money
from ledger import states
from ledger.models import Account, OutboxEvent, Transaction, TransactionEvent
from ledger.models.transactions import UNIQUE_CLIENT_REFERENCE
from ledger.services.holds import holds_place_bulk
from ledger.services.transactions import check_create, duplicate_reference, transaction_observed, transaction_payload
from partners.models import Partner

INSERT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class NewTransaction:
    """One transaction of a bulk creation."""

    money: Money
    client_reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    fee: Money | None = None


def transactions_create_bulk(
    *,
    partner: Partner,
    mode: str,
    kind: str,
    provider: str,
    items: Sequence[NewTransaction],
    hold_account: Account | None = None,
    cause: str = states.Cause.API,
) -> list[Transaction]:
    """Create ``pending`` transactions for ``items`` with their holds, first events and outbox rows.

    All or nothing: ``InsufficientFunds`` when ``hold_account`` does not cover the total (amount
    plus fee of every item), and then nothing is written. Returns the saved transactions in the
    order of ``items``.
    """
    transactions = []
    for item in items:
        fee = item.fee if item.fee is not None else Money.zero(item.money.currency)
        check_create(partner=partner, mode=mode, kind=kind, money=item.money, fee=fee, hold_account=hold_account)
        transactions.append(
            Transaction(
                partner=partner,
                mode=mode,
                kind=kind,
                provider=provider,
                amount_minor=item.money.minor,
                fee_minor=fee.minor,
                currency=item.money.currency,
                client_reference=item.client_reference,
                metadata=item.metadata,
            )
        )
    if not transactions:
        return []
    try:
        with db_transaction.atomic():
            Transaction.objects.bulk_create(transactions, batch_size=INSERT_BATCH_SIZE)
            if hold_account is not None:
                holds_place_bulk(account=hold_account, transactions=transactions)
            TransactionEvent.objects.bulk_create(
                (
                    TransactionEvent(transaction=t, from_status="", to_status=t.status, cause=states.Cause(cause))
                    for t in transactions
                ),
                batch_size=INSERT_BATCH_SIZE,
            )
            OutboxEvent.objects.bulk_create(
                (
                    OutboxEvent(
                        type="transaction.created",
                        aggregate_type="transaction",
                        aggregate_id=t.public_id,
                        partner=partner,
                        mode=mode,
                        payload=transaction_payload(t),
                    )
                    for t in transactions
                ),
                batch_size=INSERT_BATCH_SIZE,
            )
            first = transactions[0]
            db_transaction.on_commit(
                lambda: transaction_observed(
                    first, from_status="", to_status=first.status, cause=cause, count=len(transactions)
                )
            )
    except IntegrityError as exc:
        if UNIQUE_CLIENT_REFERENCE not in str(exc):
            raise
        references = [t.client_reference for t in transactions]
        raise duplicate_reference(partner=partner, mode=mode, kind=kind, client_references=references) from None
    return transactions
