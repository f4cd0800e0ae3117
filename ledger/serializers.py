"""How the partner API shows ledger objects. Every rail renders its transaction with
``transaction_representation`` so partners see one shape whatever the rail."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.money import format_minor
from ledger.models import Account, Transaction, TransactionEvent
from ledger.models.transactions import Kind
from ledger.states import Status


def event_representation(event: TransactionEvent) -> dict[str, Any]:
    return {
        "from_status": event.from_status or None,
        "to_status": event.to_status,
        "cause": event.cause,
        "detail": event.detail,
        "created_at": event.created_at.isoformat(),
    }


def transaction_representation(txn: Transaction, *, with_events: bool = False) -> dict[str, Any]:
    """The public JSON of a transaction: amounts as decimal strings in major units."""
    body: dict[str, Any] = {
        "id": txn.public_id,
        "object": "transaction",
        "kind": txn.kind,
        "mode": txn.mode,
        "provider": txn.provider,
        "status": txn.status,
        "amount": format_minor(txn.amount_minor, txn.currency),
        "fee": format_minor(txn.fee_minor, txn.currency),
        "currency": txn.currency,
        "client_reference": txn.client_reference or None,
        "provider_reference": txn.provider_reference or None,
        "failure": {"code": txn.failure_code, "message": txn.failure_message} if txn.failure_code else None,
        "needs_review": txn.needs_review,
        "metadata": txn.metadata,
        "created_at": txn.created_at.isoformat(),
        "updated_at": txn.updated_at.isoformat(),
    }
    if with_events:
        body["events"] = [event_representation(e) for e in txn.events.all().order_by("created_at", "pk")]
    return body


def account_representation(account: Account) -> dict[str, Any]:
    available = account.balance_minor - account.held_minor
    return {
        "currency": account.currency,
        "balance": format_minor(account.balance_minor, account.currency),
        "held": format_minor(account.held_minor, account.currency),
        "available": format_minor(available, account.currency),
        "overdraft_limit": format_minor(account.overdraft_limit_minor, account.currency),
    }


class TransactionListQuerySerializer(serializers.Serializer):
    """Filters of ``GET /api/v1/transactions`` (DESIGN.md §5)."""

    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    provider = serializers.CharField(max_length=40, required=False)
    client_reference = serializers.CharField(max_length=100, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=25)
    cursor = serializers.CharField(max_length=200, required=False)
