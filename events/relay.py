"""The outbox relay (docs/architecture.md §4 "Outbox", issue 7 item 3): unpublished rows leave the gateway.

One pass (``relay_outbox_once``) runs in one short DB transaction:

1. take a transaction-level advisory lock (only one relay pass at a time across processes, so
   rows leave in id order and the order per aggregate holds even with a beat task and
   ``manage.py relay_outbox`` both running); a pass that cannot take it does nothing;
2. claim at most ``batch_size`` unpublished rows in id order with ``FOR UPDATE SKIP LOCKED``;
3. hand them to partner webhooks (``WebhookDelivery`` rows, idempotent per event and partner;
   after commit one task carries the pass's new deliveries to a worker, which enqueues one
   delivery task each: per delivery, the broker round trip took 60 % of a 200-row pass) and to
   the end-user push rules (``push_rules``);
4. publish them to ``KAFKA_TOPIC_EVENTS`` (JSON envelope, key = aggregate id, so one
   transaction's events go to one partition, in order) and wait, bounded by
   ``KAFKA_MESSAGE_TIMEOUT_MS``, for the delivery reports;
5. mark ``published_at`` on the acknowledged rows only; the others count an attempt and wait for
   the next pass (Kafka down: nothing is lost, rows wait).

With ``ENABLE_KAFKA=false`` step 4 is skipped and rows are marked relayed after step 3.
Passes are run by the follower (``manage.py relay_outbox --follow``, events/follower.py) as soon as
rows are committed, and by the beat task every few seconds as its safety net.
Delivery is at least once: a relay killed between the broker's acknowledgement and the commit
publishes those rows again, and consumers de-duplicate by the envelope's ``id``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.metrics import outbox_lag_seconds
from core.tasks import enqueue_on_commit
from events.kafka import KafkaDisabled, OutgoingMessage, publish_batch
from ledger.models import OutboxEvent
from notifications.push_rules import push_rules_apply
from notifications.webhooks import envelope_bytes, webhook_deliveries_create

logger = logging.getLogger("events.relay")

DEFAULT_BATCH_SIZE = 200
FAN_OUT_TASK = "events.webhook_deliveries_enqueue"
RELAY_LOCK_KEY = 0x0AD0_0E7E  # pg advisory lock id of the relay


@dataclass(frozen=True)
class RelayOutcome:
    """What one pass did: rows claimed, published to Kafka (or relayed with Kafka off), left waiting."""

    claimed: int
    published: int
    waiting: int
    lock_busy: bool = False


def _take_relay_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def _messages(rows: list[OutboxEvent]) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            message_id=row.public_id,
            topic=settings.KAFKA_TOPIC_EVENTS,
            key=row.aggregate_id,
            value=envelope_bytes(row),
            headers={"event-id": row.public_id, "event-type": row.type},
        )
        for row in rows
    ]


def _publish(rows: list[OutboxEvent]) -> set[str]:
    """Public ids of the rows Kafka acknowledged (all of them when Kafka is switched off)."""
    try:
        outcome = publish_batch(_messages(rows))
    except KafkaDisabled:
        return {row.public_id for row in rows}
    if outcome.failed:
        logger.warning(
            "kafka acknowledged %d of %d outbox rows; the rest wait",
            len(outcome.acknowledged_ids),
            len(rows),
            extra={"errors": sorted({d.error or "" for d in outcome.failed})},
        )
    return set(outcome.acknowledged_ids)


def relay_outbox_once(*, batch_size: int = DEFAULT_BATCH_SIZE) -> RelayOutcome:
    """One relay pass (see the module docstring). Never marks a row Kafka did not acknowledge."""
    with transaction.atomic():
        if not _take_relay_lock():
            return RelayOutcome(claimed=0, published=0, waiting=0, lock_busy=True)
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("partner")
            .filter(published_at__isnull=True)
            .order_by("id")[:batch_size]
        )
        if not rows:
            outbox_lag_seconds.set(0)
            return RelayOutcome(claimed=0, published=0, waiting=0)
        delivery_ids = webhook_deliveries_create(rows)
        if delivery_ids:  # one message per pass; a worker fans out (``events.webhook_deliveries_enqueue``)
            enqueue_on_commit(FAN_OUT_TASK, delivery_ids)
        push_rules_apply(rows)  # end-user pushes of final states; their tasks are enqueued on commit
        acknowledged = _publish(rows)
        now = timezone.now()
        published_pks = [row.pk for row in rows if row.public_id in acknowledged]
        waiting = [row for row in rows if row.public_id not in acknowledged]
        waiting_pks = [row.pk for row in waiting]
        OutboxEvent.objects.filter(pk__in=published_pks).update(published_at=now, attempts=F("attempts") + 1)
        OutboxEvent.objects.filter(pk__in=waiting_pks).update(attempts=F("attempts") + 1)
    if len(rows) < batch_size:  # the pass saw the whole unpublished tail: no query needed
        outbox_lag_seconds.set(_oldest_age(waiting, now))
    else:
        outbox_lag_update()
    return RelayOutcome(claimed=len(rows), published=len(published_pks), waiting=len(waiting_pks))


def _oldest_age(rows: list[OutboxEvent], now: datetime) -> float:
    """Seconds since the oldest of ``rows`` was written (0 when none)."""
    return max(0.0, (now - min(row.created_at for row in rows)).total_seconds()) if rows else 0.0


def outbox_lag_update() -> float:
    """Set ``addon_outbox_lag_seconds`` to the age of the oldest unpublished row (0 when none)."""
    unpublished = OutboxEvent.objects.filter(published_at__isnull=True).order_by("id")
    oldest = unpublished.values_list("created_at", flat=True).first()
    lag = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest is not None else 0.0
    outbox_lag_seconds.set(lag)
    return lag


def relay_outbox_drain(*, batch_size: int = DEFAULT_BATCH_SIZE, max_passes: int = 50) -> RelayOutcome:
    """Passes until a pass publishes nothing new (or ``max_passes``); the beat task's body."""
    claimed = published = waiting = 0
    for _ in range(max_passes):
        outcome = relay_outbox_once(batch_size=batch_size)
        claimed += outcome.claimed
        published += outcome.published
        waiting = outcome.waiting
        if outcome.lock_busy or outcome.published == 0 or outcome.claimed < batch_size:
            break
    return RelayOutcome(claimed=claimed, published=published, waiting=waiting)
