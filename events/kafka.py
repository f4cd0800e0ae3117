"""The Kafka client of the gateway (confluent-kafka), switched by ``ENABLE_KAFKA``.

One idempotent producer per process (docs/providers/kafka.md §1, §2): ``enable.idempotence`` gives
exactly-once, in-order writes per partition despite librdkafka's internal retries, with
``acks=all``. ``message.timeout.ms`` (``KAFKA_MESSAGE_TIMEOUT_MS``) bounds how long a message may
wait for its acknowledgement: when Kafka is unreachable, every message gets a failed delivery
report within that time, so a caller is never stuck and learns exactly what was not delivered.

- ``publish()`` queues one message; its delivery report arrives on a later ``poll``/``flush``.
- ``publish_batch()`` queues several, waits for their reports (bounded) and answers which were
  acknowledged by the brokers: a relay marks only those rows published. A message without a
  report in time counts as not acknowledged; it may still be written later, so consumers
  de-duplicate by event id (at-least-once, docs/architecture.md §4 "Outbox").
- With ``ENABLE_KAFKA=false`` both raise ``KafkaDisabled`` and nothing is sent.

Every delivery report is counted in ``addon_kafka_deliveries_total{outcome=delivered|failed}``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from django.conf import settings

from core.errors import ErrorCode, ServiceUnavailable
from core.metrics import kafka_deliveries_total

logger = logging.getLogger("events.kafka")
librdkafka_logger = logging.getLogger("events.kafka.librdkafka")

# Keys of settings.KAFKA that say how to reach the cluster (the only ones an AdminClient needs).
CONNECTION_KEYS = (
    "bootstrap.servers",
    "security.protocol",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
)
REPORT_WAIT_MARGIN_SECONDS = 2.0  # past message.timeout.ms, librdkafka's own report latency
QUEUE_FULL_WAIT_SECONDS = 1.0
NO_REPORT = "NO_DELIVERY_REPORT"  # error of a message whose report did not come in time
NOT_QUEUED = "NOT_QUEUED"  # prefix of the error of a message librdkafka refused to queue

DeliveryCallback = Callable[[KafkaError | None, Message], None]


class KafkaDisabled(ServiceUnavailable):
    """Kafka is switched off (``ENABLE_KAFKA=false``): nothing was sent."""

    code = ErrorCode.KAFKA_DISABLED
    title = "Kafka is disabled"


class KafkaPublishFailed(ServiceUnavailable):
    """librdkafka refused to queue the message (queue full, too large, producer in a fatal state)."""

    title = "Kafka publish failed"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to publish; ``message_id`` is the caller's id for it (e.g. the outbox event id)."""

    message_id: str
    topic: str
    key: str | None
    value: bytes
    headers: Mapping[str, str | bytes] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Delivery:
    """What became of one message: acknowledged by the brokers (partition, offset) or not (error)."""

    message_id: str
    topic: str
    is_acknowledged: bool
    partition: int | None = None
    offset: int | None = None
    error: str | None = None  # librdkafka error name, e.g. _MSG_TIMED_OUT, or NO_DELIVERY_REPORT


@dataclass(frozen=True)
class BatchOutcome:
    """Deliveries index-aligned with the published messages."""

    deliveries: tuple[Delivery, ...]

    @property
    def acknowledged_ids(self) -> list[str]:
        return [d.message_id for d in self.deliveries if d.is_acknowledged]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.is_acknowledged]

    @property
    def is_complete(self) -> bool:
        return all(d.is_acknowledged for d in self.deliveries)


# --- configuration ------------------------------------------------------------------------------


def connection_config() -> dict[str, Any]:
    """How to reach the cluster (bootstrap, TLS, SASL): only the non-empty settings are passed on."""
    return {key: value for key, value in settings.KAFKA.items() if key in CONNECTION_KEYS and value}


def producer_config() -> dict[str, Any]:
    """librdkafka settings of the application's producer (without the Python-only callbacks)."""
    config = connection_config()
    config.update(
        {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": settings.KAFKA_MESSAGE_TIMEOUT_MS,
            "client.id": "addon-partner",
        }
    )
    return config


def check_connection(*, timeout: float) -> None:
    """Raise ``ConnectionError`` when no broker answers a metadata request within ``timeout`` s."""
    from confluent_kafka.admin import AdminClient

    admin_config: dict[str, Any] = {**connection_config(), "logger": librdkafka_logger}
    client = AdminClient(admin_config)
    try:
        metadata = client.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise ConnectionError(f"Kafka unreachable: {exc}") from exc
    if not metadata.brokers:
        raise ConnectionError("Kafka metadata lists no broker")


# --- the process-wide producer --------------------------------------------------------------


@dataclass
class _ProducerSlot:
    identity: str  # process id + configuration: a forked child or a new config gets a new producer
    producer: Producer | None = None
    is_fatal: bool = False  # set by this producer's own callbacks only

    @property
    def is_from_this_process(self) -> bool:
        return self.identity.split(":", 1)[0] == str(os.getpid())


_slot: _ProducerSlot | None = None
_slot_lock = threading.Lock()


def _identity(config: Mapping[str, Any]) -> str:
    return f"{os.getpid()}:{json.dumps(config, sort_keys=True, default=str)}"


def _current_slot() -> _ProducerSlot:
    """The process's producer slot, created on first use; raises ``KafkaDisabled`` when switched off.

    A new producer is created after a fork (librdkafka threads do not survive it), when the
    settings changed, and after a fatal idempotent-producer error (that instance can no longer
    produce; docs/providers/kafka.md §2).
    """
    global _slot
    if not settings.ENABLE_KAFKA:
        raise KafkaDisabled("Kafka publishing is disabled (ENABLE_KAFKA=false).")
    config = producer_config()
    identity = _identity(config)
    with _slot_lock:
        if _slot is None or _slot.identity != identity or _slot.is_fatal:
            if _slot is not None and _slot.producer is not None and _slot.is_from_this_process:
                _slot.producer.flush(0)  # serve what is ready; the rest is reported undelivered
            slot = _ProducerSlot(identity)
            # librdkafka's own log lines go to Python logging (served on poll/flush), not stderr
            full_config: dict[str, Any] = {
                **config,
                "logger": librdkafka_logger,
                "error_cb": functools.partial(_on_client_error, slot=slot),
            }
            slot.producer = Producer(full_config)
            _slot = slot
            logger.info("kafka producer created for %s", config.get("bootstrap.servers"))
        return _slot


def get_producer() -> Producer:
    """The process's producer (see ``_current_slot``); raises ``KafkaDisabled`` when switched off."""
    producer = _current_slot().producer
    assert producer is not None  # set before the slot is published
    return producer


def reset_producer(*, flush_timeout: float = 0.0) -> None:
    """Flush (up to ``flush_timeout`` s) and drop the process's producer (shutdown, tests)."""
    global _slot
    with _slot_lock:
        slot, _slot = _slot, None
    if slot is not None and slot.producer is not None and slot.is_from_this_process:
        slot.producer.flush(flush_timeout)


def _on_client_error(error: KafkaError, *, slot: _ProducerSlot) -> None:
    """Client-level errors (all brokers down, authentication…): logged; fatal ones retire the producer."""
    logger.warning("kafka client error %s: %s", error.name(), error.str(), extra={"fatal": error.fatal()})
    if error.fatal():
        slot.is_fatal = True


def _on_delivery(
    error: KafkaError | None, message: Message, *, slot: _ProducerSlot, then: DeliveryCallback | None
) -> None:
    kafka_deliveries_total.labels("delivered" if error is None else "failed").inc()
    if error is not None:
        logger.warning("kafka delivery failed to %s: %s", message.topic(), error.name())
        if error.fatal():
            slot.is_fatal = True
    if then is not None:
        then(error, message)


# --- publishing ----------------------------------------------------------------------------------


def publish(
    topic: str,
    key: str | None,
    value: bytes,
    headers: Mapping[str, str | bytes] | None = None,
    *,
    on_delivery: DeliveryCallback | None = None,
) -> None:
    """Queue one message; its delivery report (counted, then ``on_delivery``) comes on a later
    ``poll``/``flush``. Raises ``KafkaDisabled`` (nothing sent) or ``KafkaPublishFailed``
    (not queued). Messages with the same key go to the same partition, in publish order."""
    slot = _current_slot()
    producer = slot.producer
    assert producer is not None
    callback = functools.partial(_on_delivery, slot=slot, then=on_delivery)
    encoded_key = key.encode() if key is not None else None
    encoded_headers: list[tuple[str, str | bytes | None]] = [
        (name, item.encode() if isinstance(item, str) else item) for name, item in (headers or {}).items()
    ]

    def produce() -> None:
        producer.produce(topic, value=value, key=encoded_key, headers=encoded_headers, on_delivery=callback)

    try:
        try:
            produce()
        except BufferError:  # the local queue is full: serve reports to make room, once
            producer.poll(QUEUE_FULL_WAIT_SECONDS)
            produce()
    except BufferError as exc:
        raise KafkaPublishFailed("The Kafka producer queue is full.") from exc
    except KafkaException as exc:
        raise KafkaPublishFailed(f"Kafka refused the message: {exc.args[0].name()}") from exc
    producer.poll(0)  # serve reports of earlier messages without waiting


def flush(timeout: float) -> int:
    """Wait up to ``timeout`` s for every queued message's report; answer how many are still
    waiting. Raises ``KafkaDisabled`` when switched off."""
    return int(get_producer().flush(timeout))


def publish_batch(messages: Sequence[OutgoingMessage], *, timeout: float | None = None) -> BatchOutcome:
    """Publish ``messages`` and wait (bounded) for their reports; say which were acknowledged.

    Waits at most ``timeout`` s (default: ``KAFKA_MESSAGE_TIMEOUT_MS`` plus a small margin, by which
    librdkafka has reported every message). Never raises for a single message: one that could not
    be queued or got no report in time is a failed ``Delivery`` (``NOT_QUEUED:…`` /
    ``NO_DELIVERY_REPORT``). Raises ``KafkaDisabled`` before sending anything when switched off.
    """
    get_producer()  # KafkaDisabled before anything is queued
    reports: list[Delivery | None] = [None] * len(messages)
    for index, message in enumerate(messages):
        try:
            publish(
                message.topic,
                message.key,
                message.value,
                message.headers,
                on_delivery=functools.partial(_record_report, reports, index, message),
            )
        except KafkaPublishFailed as exc:
            reports[index] = Delivery(message.message_id, message.topic, False, error=f"{NOT_QUEUED}: {exc.detail}")
    wait = timeout if timeout is not None else settings.KAFKA_MESSAGE_TIMEOUT_MS / 1000 + REPORT_WAIT_MARGIN_SECONDS
    flush(wait)
    return BatchOutcome(
        tuple(
            report or Delivery(message.message_id, message.topic, False, error=NO_REPORT)
            for report, message in zip(reports, messages, strict=True)
        )
    )


def _record_report(
    reports: list[Delivery | None], index: int, sent: OutgoingMessage, error: KafkaError | None, report: Message
) -> None:
    if error is None:
        reports[index] = Delivery(sent.message_id, sent.topic, True, report.partition(), report.offset())
    else:
        reports[index] = Delivery(sent.message_id, sent.topic, False, error=error.name())
