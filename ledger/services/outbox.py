"""The outbox: record an event in the same DB transaction as the change it describes.

Publishing (Kafka, partner webhooks, push rules) is the relay's job (``events`` app); it reads
unpublished rows in id order and delivers each at least once. Consumers de-duplicate on the
event's ``public_id`` (``evt_…``).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from django.db import connection

from ledger.models import OutboxEvent
from partners.models import Partner

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class Aggregate(Protocol):
    """Anything with a public id: a transaction, a batch, a checkout session…"""

    public_id: str


def aggregate_type_of(aggregate: Aggregate) -> str:
    """``CheckoutSession`` → ``checkout_session`` (override with ``OUTBOX_AGGREGATE_TYPE``)."""
    explicit = getattr(aggregate, "OUTBOX_AGGREGATE_TYPE", None)
    return explicit or _CAMEL.sub("_", aggregate.__class__.__name__).lower()


def outbox_record(
    *, type: str, aggregate: Aggregate, partner: Partner, mode: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Write one event about ``aggregate``; call it inside the DB transaction of the change.

    Outside a transaction the event could be committed without its change (or the change
    without its event), which is exactly what an outbox exists to prevent: refuse it.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_record must run inside the DB transaction of the change it describes.")
    event = outbox_event(type=type, aggregate=aggregate, partner=partner, mode=mode, payload=payload)
    event.save(force_insert=True)
    return event


def outbox_event(
    *, type: str, aggregate: Aggregate, partner: Partner, mode: str, payload: dict[str, Any]
) -> OutboxEvent:
    """The outbox row ``outbox_record`` writes, not yet saved: for a caller that writes it together
    with the change's other rows (``core.db.insert_together``), inside the change's DB transaction."""
    return OutboxEvent(
        type=type,
        aggregate_type=aggregate_type_of(aggregate),
        aggregate_id=aggregate.public_id,
        partner=partner,
        mode=mode,
        payload=payload,
    )
