"""End-user push on final transaction states (issue 7 item 1, last sentence).

A money-moving request may carry device tokens in the transaction's metadata under
``notify_device_tokens`` (a list of FCM registration tokens of the end user's devices). When the
relay hands over an event saying the transaction reached a final state, one push goes to those
devices: at most one per event (``PushNotification.source_event`` is unique), sent by the usual
``notifications.push_send`` task with the usual per-target results, dead tokens and retries.
One event whose push cannot be built (data the code does not expect) is logged with its id and
skipped; it never stops the relay's batch (docs/conventions.md §36).
"""

from __future__ import annotations

import logging

from django.db import transaction

from core.errors import ValidationFailed
from core.money import Money
from ledger.models import OutboxEvent, Transaction
from ledger.services.review import item_guard
from notifications.models import PushNotification
from notifications.providers.base import PushMessage, PushTargets
from notifications.push import push_create

logger = logging.getLogger("notifications.push_rules")

TOKENS_METADATA_KEY = "notify_device_tokens"
FINAL_EVENT_TITLES = {
    "transaction.succeeded": "Transaction réussie",
    "transaction.failed": "Transaction échouée",
    "transaction.reversed": "Transaction annulée",
    "transaction.cancelled": "Transaction annulée",
    "transaction.expired": "Transaction expirée",
}


def _push_of(event: OutboxEvent, txn: Transaction) -> tuple[PushMessage, PushTargets] | None:
    tokens = txn.metadata.get(TOKENS_METADATA_KEY) if isinstance(txn.metadata, dict) else None
    if not tokens or not isinstance(tokens, list):
        return None
    amount = Money(txn.amount_minor, txn.currency).to_decimal_string()
    message = PushMessage(
        title=FINAL_EVENT_TITLES[event.type],
        body=f"{amount} {txn.currency}" + (f" · {txn.client_reference}" if txn.client_reference else ""),
        data={"transaction_id": txn.public_id, "status": txn.status, "event_id": event.public_id},
    )
    return message, PushTargets.to_tokens([str(token) for token in tokens])


def push_rules_apply(events: list[OutboxEvent]) -> list[int]:
    """Create the end-user pushes that ``events`` call for (idempotent per event); answer their ids.

    Call inside the relay's transaction: the pushes' send tasks are enqueued after its commit.
    Invalid tokens are logged and skipped, never sent (the transaction itself is unaffected).
    """
    finals = [event for event in events if event.aggregate_type == "transaction" and event.type in FINAL_EVENT_TITLES]
    if not finals:
        return []
    done = set(PushNotification.objects.filter(source_event__in=finals).values_list("source_event_id", flat=True))
    transactions = {t.public_id: t for t in Transaction.objects.filter(public_id__in=[e.aggregate_id for e in finals])}
    created: list[int] = []
    for event in finals:
        txn = transactions.get(event.aggregate_id)
        if txn is None or event.pk in done:
            continue
        # The transaction is final and not ours to set aside: the guard only logs and moves on;
        # the savepoint undoes whatever the failed item wrote inside the relay's transaction.
        with item_guard(work="notifications.push_rules", transaction=None, item=event.public_id), transaction.atomic():
            notification_id = _push_for(event, txn)
            if notification_id is not None:
                created.append(notification_id)
    return created


def _push_for(event: OutboxEvent, txn: Transaction) -> int | None:
    push = _push_of(event, txn)
    if push is None:
        return None
    try:
        notification = push_create(
            partner=event.partner, mode=event.mode, message=push[0], targets=push[1], source_event=event
        )
    except ValidationFailed as exc:
        logger.warning("end-user push of %s skipped: %s", event.public_id, exc.detail)
        return None
    return notification.pk
