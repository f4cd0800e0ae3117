"""The ledger's models, split by sub-domain (docs/conventions.md §1)."""

from ledger.models.accounts import Account, AccountKind, Hold, HoldStatus, LedgerEntry, Posting
from ledger.models.idempotency import IdempotencyRecord, IdempotencyState
from ledger.models.outbox import OutboxEvent
from ledger.models.provider_calls import ProviderCall
from ledger.models.transactions import (
    INCOMING_KINDS,
    OUTGOING_KINDS,
    Kind,
    Transaction,
    TransactionEvent,
    TransactionToResolve,
)

__all__ = [
    "INCOMING_KINDS",
    "OUTGOING_KINDS",
    "Account",
    "AccountKind",
    "Hold",
    "HoldStatus",
    "IdempotencyRecord",
    "IdempotencyState",
    "Kind",
    "LedgerEntry",
    "OutboxEvent",
    "Posting",
    "ProviderCall",
    "Transaction",
    "TransactionEvent",
    "TransactionToResolve",
]
