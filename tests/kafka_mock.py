"""librdkafka's mock cluster as a real Kafka peer on loopback, for tests (docs/providers/kafka.md §3).

A "holder" producer created with ``test.mock.num.brokers`` starts an in-process mock cluster
that listens on a real ``127.0.0.1:<port>``; librdkafka logs that address (``debug: mock``), we
read it from the log records and hand it as ``bootstrap.servers`` to the application's producer
and to test consumers. The holder must stay alive as long as the cluster is used.

Use the fixtures (import them in a ``conftest.py``)::

    from tests.kafka_mock import kafka_mock_cluster, kafka_settings  # noqa: F401

``kafka_mock_cluster`` (session) is the cluster; ``kafka_settings`` (per test) points the
settings at it with ``ENABLE_KAFKA=True`` and a short ``KAFKA_MESSAGE_TIMEOUT_MS``, and drops
the process's producer afterwards. ``consume_all(bootstrap, topic)`` reads a topic back.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

MOCK_ADDRESS = re.compile(r"bootstrap\.servers=(127\.0\.0\.1:\d+)")
TEST_MESSAGE_TIMEOUT_MS = 3000
_holder_ids = itertools.count(1)


class _AddressCapture(logging.Handler):
    """Keeps the mock cluster's bootstrap address from librdkafka's log lines (then stops looking)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.address: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.address is None:
            match = MOCK_ADDRESS.search(record.getMessage())
            if match:
                self.address = match.group(1)


@dataclass
class MockKafkaCluster:
    """A running mock cluster; alive while ``holder`` is."""

    bootstrap_servers: str
    holder: Producer

    def drain_logs(self) -> None:
        """Serve the holder's queued debug log lines (they pile up until polled)."""
        self.holder.poll(0)


def start_mock_cluster(*, timeout: float = 10.0) -> MockKafkaCluster:
    """Start a one-broker mock cluster and answer once its loopback address is known."""
    capture = _AddressCapture()
    log = logging.getLogger(f"tests.kafka_mock.holder{next(_holder_ids)}")
    log.setLevel(logging.DEBUG)
    log.propagate = False  # broker debug lines are noise in test output
    log.addHandler(capture)
    holder = Producer({"test.mock.num.brokers": 1, "debug": "mock,broker", "logger": log})
    deadline = time.monotonic() + timeout
    while capture.address is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the librdkafka mock cluster did not log its bootstrap address")
        holder.poll(0.1)  # log lines are delivered to Python on poll
    return MockKafkaCluster(capture.address, holder)


@dataclass(frozen=True)
class ConsumedMessage:
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, bytes]


def consume_all(bootstrap_servers: str, topic: str, *, timeout: float = 10.0) -> list[ConsumedMessage]:
    """Every message of ``topic`` (all partitions, from the beginning), ordered by partition and
    offset, read by a real ``confluent_kafka.Consumer``. A topic that does not exist gives []."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"tests-{topic}",
            "enable.auto.commit": False,
            "allow.auto.create.topics": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return []
        partitions = [TopicPartition(topic, number, OFFSET_BEGINNING) for number in metadata.partitions]
        ends = {p.partition: consumer.get_watermark_offsets(p, timeout=timeout)[1] for p in partitions}
        consumer.assign(partitions)
        return _read_until(consumer, ends, timeout=timeout)
    finally:
        consumer.close()


def _read_until(consumer: Consumer, ends: dict[int, int], *, timeout: float) -> list[ConsumedMessage]:
    wanted = sum(ends.values())
    received: list[ConsumedMessage] = []
    deadline = time.monotonic() + timeout
    while len(received) < wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"read {len(received)} of {wanted} messages")
        message = consumer.poll(0.2)
        if message is None or message.error() is not None:
            continue
        key = message.key()
        received.append(
            ConsumedMessage(
                partition=message.partition() or 0,
                offset=message.offset() or 0,
                key=key.decode() if isinstance(key, bytes) else key,
                value=message.value() or b"",
                headers=_headers(message.headers()),
            )
        )
    return sorted(received, key=lambda item: (item.partition, item.offset))


def _headers(raw: Any) -> dict[str, bytes]:
    pairs = raw.items() if isinstance(raw, dict) else (raw or [])
    return {str(name): value if isinstance(value, bytes) else str(value or "").encode() for name, value in pairs}


@pytest.fixture(scope="session")
def kafka_mock_cluster() -> Iterator[MockKafkaCluster]:
    cluster = start_mock_cluster()
    yield cluster
    cluster.drain_logs()


@pytest.fixture
def kafka_settings(settings, kafka_mock_cluster: MockKafkaCluster) -> Iterator[MockKafkaCluster]:  # type: ignore[no-untyped-def]
    """Settings pointed at the mock cluster (plaintext, as the mock forces), Kafka enabled."""
    from events.kafka import reset_producer

    settings.ENABLE_KAFKA = True
    settings.KAFKA = {"bootstrap.servers": kafka_mock_cluster.bootstrap_servers, "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = TEST_MESSAGE_TIMEOUT_MS
    reset_producer()
    yield kafka_mock_cluster
    reset_producer(flush_timeout=1.0)
    kafka_mock_cluster.drain_logs()
