"""How the partner API shows ledger objects. Every rail renders its transaction with
``transaction_representation`` so partners see one shape whatever the rail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from core.api.pagination import PageQuerySerializer, page_serializer
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


def _event_row_representation(row: dict[str, Any]) -> dict[str, Any]:
    """The same, from an event PostgreSQL rendered as JSON (its time parsed, so that it is written
    exactly as ``isoformat`` writes a time read as a column)."""
    return {
        "from_status": row["from_status"] or None,
        "to_status": row["to_status"],
        "cause": row["cause"],
        "detail": row["detail"],
        "created_at": datetime.fromisoformat(row["created_at"]).astimezone(UTC).isoformat(),
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
        rows = getattr(txn, "event_rows", None)  # read with the transaction (``ledger.selectors.transaction_get``)
        if rows is not None:
            body["events"] = [_event_row_representation(row) for row in rows]
        else:
            events = txn.events.all().order_by("created_at", "pk")
            body["events"] = [event_representation(event) for event in events]
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


class TransactionListQuerySerializer(PageQuerySerializer):
    """Filters of ``GET /api/v1/transactions`` (docs/architecture.md §5)."""

    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    provider = serializers.CharField(max_length=40, required=False)
    client_reference = serializers.CharField(max_length=100, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


# --- OpenAPI documentation of the responses (the views render with the functions above) --------


class FailureSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class TransactionEventSerializer(serializers.Serializer):
    from_status = serializers.CharField(allow_null=True)
    to_status = serializers.CharField()
    cause = serializers.ChoiceField(choices=["api", "worker", "callback", "poller", "staff"])
    detail = serializers.DictField(
        help_text="what caused the change, free-form: e.g. the provider's status or error, a reason code"
    )
    created_at = serializers.DateTimeField()


class TransactionMetadataSerializer(serializers.Serializer):
    """What the gateway records about a transaction; a key is present only for the kinds it concerns."""

    msisdn = serializers.CharField(required=False, help_text="the wallet of a cash-in")
    batch = serializers.CharField(required=False, help_text="bat_… of a cash-in from a batch")
    line = serializers.IntegerField(required=False, help_text="its 0-based index in the batch")
    checkout_session = serializers.CharField(required=False, help_text="cos_… of a collection or its refund")
    refunds = serializers.CharField(required=False, help_text="txn_… a refund gives back")
    quote_id = serializers.CharField(required=False, help_text="qte_… of a bill payment")
    biller = serializers.CharField(required=False)
    customer_reference = serializers.CharField(required=False)
    bill_id = serializers.CharField(required=False, allow_null=True)
    settlement = serializers.CharField(required=False, help_text="RTGS or CLEARING, of a bank transfer")
    batch_id = serializers.CharField(required=False, help_text="trb_… of a credit from a transfer batch")
    pmt_inf_id = serializers.CharField(required=False, help_text="its payment information in the pain.001")
    notify_device_tokens = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="devices told when it settles"
    )


class TransactionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="txn_… (time-sortable)")
    object = serializers.CharField(default="transaction")
    kind = serializers.ChoiceField(choices=Kind.choices)
    mode = serializers.ChoiceField(choices=["test", "live"])
    provider = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    amount = serializers.CharField(help_text='decimal string in major units, e.g. "1500" XOF')
    fee = serializers.CharField()
    currency = serializers.CharField()
    client_reference = serializers.CharField(allow_null=True)
    provider_reference = serializers.CharField(allow_null=True)
    failure = FailureSerializer(allow_null=True)
    needs_review = serializers.BooleanField()
    metadata = TransactionMetadataSerializer(help_text="the rail's context: only the keys of the transaction's kind")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TransactionWithEventsSerializer(TransactionSerializer):
    events = TransactionEventSerializer(many=True)


TransactionPageSerializer = page_serializer("TransactionPageSerializer", TransactionSerializer)


class AccountBalanceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    balance = serializers.CharField()
    held = serializers.CharField()
    available = serializers.CharField()
    overdraft_limit = serializers.CharField()


class ProviderFloatSerializer(serializers.Serializer):
    provider = serializers.CharField()
    balance = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    available = serializers.BooleanField()
    error = serializers.CharField(allow_null=True)


class BalancesSerializer(serializers.Serializer):
    object = serializers.CharField(default="balances")
    mode = serializers.CharField()
    accounts = AccountBalanceSerializer(many=True)
    provider_floats = ProviderFloatSerializer(many=True)


class MeSerializer(serializers.Serializer):
    partner_id = serializers.CharField()
    name = serializers.CharField()
    code = serializers.CharField()
    status = serializers.CharField()
    mode = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    rate_limit_per_minute = serializers.IntegerField()
    webhook_url = serializers.URLField(allow_null=True)
    sandbox = serializers.BooleanField()
