"""What the batch, transfer and callback services share: connectors, outcomes, poll backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from core.errors import IllegalTransition
from ledger.models import Transaction
from ledger.services import transaction_transition
from partners.registry import build_connector
from partners.selectors import provider_connection_for_provider

# Provider partners (partners.Partner.code) and their connectors (Transaction.provider).
CORE_BANKING_CODE = "core-banking"
PARTNER_BANK_CODE = "partner-bank"
CORE_BANKING = "core_banking"
PARTNER_BANK = "partner_bank"

POLL_BASE_SECONDS = 2.0
POLL_MAX_SECONDS = 300.0
# Past this age an unresolved credit or transfer is flagged for a human (still polled).
REVIEW_AFTER = timedelta(hours=1)


def connector_for(provider_code: str, mode: str) -> Any:
    """A fresh connector of the provider partner's enabled connection in ``mode`` (one per task)."""
    return build_connector(provider_connection_for_provider(provider_code=provider_code, mode=mode))


def next_poll_after(attempts: int, now: datetime | None = None) -> datetime:
    """Exponential backoff of status queries: 2 s, 4 s, 8 s … capped at 5 minutes."""
    delay = min(POLL_BASE_SECONDS * (2**attempts), POLL_MAX_SECONDS)
    return (now or timezone.now()) + timedelta(seconds=delay)


def move(transaction: Transaction, to_status: str, *, cause: str, **changes: Any) -> bool:
    """Transition, treating a refused move as "already there or final" (a second worker, a late
    callback): returns whether this call moved it."""
    try:
        transaction_transition(transaction=transaction, to_status=to_status, cause=cause, **changes)
    except IllegalTransition:
        transaction.refresh_from_db(fields=["status"])
        return False
    return True


def claim(transaction: Transaction, *, cause: str = "worker") -> bool:
    """pending → processing; False when another worker (or an earlier run) already claimed it."""
    return move(transaction, "processing", cause=cause)
