"""P8, outbox to Kafka: events written at a steady rate (each in its own transaction, as a service
writes them with its change) while the relay runs as production runs it (``relay_outbox_drain``
every ``CELERY_BEAT_SCHEDULE["events-relay-outbox"]`` seconds) against librdkafka's mock cluster
(a real Kafka peer on loopback, tests/kafka_mock.py). The lag of an event is ``published_at -
created_at`` (published means acknowledged by Kafka). Goals: lag p99 <= 1 s, published = created.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.common import bench_partner

RATE = 200  # events per second written
SECONDS = 20
EVENT_TYPE = "bench.outbox"


def _write(partner: Any, stop_at: float, written: list[int]) -> None:
    from django.db import connection, transaction

    from ledger.services import outbox_record

    interval, started, index = 1.0 / RATE, time.perf_counter(), 0
    try:
        while time.perf_counter() < stop_at:
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with transaction.atomic():
                outbox_record(type=EVENT_TYPE, aggregate=partner, partner=partner, mode="test", payload={"n": index})
            index += 1
    finally:
        written.append(index)
        connection.close()


def p8_outbox(results: dict[str, Any]) -> dict[str, Any]:
    from django.conf import settings
    from django.test import override_settings

    from events.kafka import reset_producer
    from events.relay import relay_outbox_drain
    from ledger.models import OutboxEvent
    from tests.kafka_mock import start_mock_cluster

    cluster = start_mock_cluster()
    schedule = float(settings.CELERY_BEAT_SCHEDULE["events-relay-outbox"]["schedule"])
    kafka = {"bootstrap.servers": cluster.bootstrap_servers, "security.protocol": "PLAINTEXT"}
    with override_settings(ENABLE_KAFKA=True, KAFKA=kafka):
        reset_producer()
        try:
            partner = bench_partner("Bench P8").partner
            written: list[int] = []
            writer = threading.Thread(target=_write, args=(partner, time.perf_counter() + SECONDS, written))
            writer.start()
            mine = OutboxEvent.objects.filter(partner=partner, type=EVENT_TYPE)
            deadline = time.monotonic() + SECONDS + 120
            waiting = mine.filter(published_at__isnull=True)
            while (writer.is_alive() or waiting.exists()) and time.monotonic() < deadline:
                relay_outbox_drain()
                cluster.drain_logs()
                time.sleep(schedule)
            writer.join()
        finally:
            reset_producer(flush_timeout=1.0)
    lags = sorted((row.published_at - row.created_at).total_seconds() for row in mine if row.published_at)
    created, published = written[0], len(lags)
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else float("inf")
    return {
        "value": round(p99, 3),
        "unit": "s lag p99",
        "p50_s": round(lags[len(lags) // 2], 3) if lags else None,
        "reference": created,
        "reference_name": "events written",
        "published": published,
        "ratio": None,
        "relay_every_s": schedule,
        "goal": "lag p99 <= 1 s, published = created",
        "met": p99 <= 1.0 and published == created,
        "rate_per_s": RATE,
    }


FIGURES = {"P8": p8_outbox}
