"""The outbox: record an event in the same DB transaction as the change it describes.

Publishing (Kafka, partner webhooks, push rules) is the relay's job (``events`` app); it reads
unpublished rows in id order and delivers each at least once. Consumers de-duplicate on the
event's ``public_id`` (``evt_…``).

A transaction that writes outbox rows wakes the relay's follower (``manage.py relay_outbox
--follow``) with one ``NOTIFY`` on ``OUTBOX_CHANNEL`` sent right after it commits, in a statement
of its own. Not inside the transaction: PostgreSQL serialises the commits of every transaction
that notifies (a database-wide lock held until the commit is flushed), which measured on this
machine took 16 concurrent writers from 2,770 to 430 commits/s, while the notify sent after the
commit costs one round trip and no flush (docs/performance.md, "P8"). A notify lost to a crash
between the commit and it only delays the row until the follower's fallback poll.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from django.db import connection, transaction

from ledger.models import OutboxEvent
from partners.models import Partner

OUTBOX_CHANNEL = "ledger_outbox"  # LISTEN/NOTIFY channel the relay's follower listens on
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
    with the change's other rows (``core.db.insert_together``), inside the change's DB transaction.
    The relay's follower is woken once that transaction commits (``outbox_notify_on_commit``)."""
    outbox_notify_on_commit()
    return OutboxEvent(
        type=type,
        aggregate_type=aggregate_type_of(aggregate),
        aggregate_id=aggregate.public_id,
        partner=partner,
        mode=mode,
        payload=payload,
    )


def outbox_notify() -> None:
    """Wake the relay's follower: one ``NOTIFY``, outside any transaction (module docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {OUTBOX_CHANNEL}")


def outbox_notify_on_commit() -> None:
    """Send ``outbox_notify`` once after the current transaction commits, however many rows it
    writes (bulk writers call it too). ``robust``: a notify that fails is logged and the commit
    stands; the follower's fallback poll finds the rows."""
    if not any(entry[1] is outbox_notify for entry in connection.run_on_commit):
        transaction.on_commit(outbox_notify, robust=True)
