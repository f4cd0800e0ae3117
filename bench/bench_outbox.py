"""P8, outbox to Kafka: events written at a steady rate (each in its own transaction, as a service
writes them with its change) while the relay runs as production runs it: the follower as its own
process (``manage.py relay_outbox --follow``, deploy/systemd/addon-partner-relay.service), woken by
the writers' NOTIFY, and the beat's pass (``relay_outbox_drain`` every
``CELERY_BEAT_SCHEDULE["events-relay-outbox"]`` seconds) as its safety net, both publishing to
librdkafka's mock cluster (a real Kafka peer on loopback, tests/kafka_mock.py). The lag of an
event is ``published_at - created_at`` (published means acknowledged by Kafka). Goals: lag p99
<= 1 s, published = created.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import bench_partner

RATE = 200  # events per second written
WRITERS = 4
SECONDS = 20
EVENT_TYPE = "bench.outbox"
FALLBACK_POLL_SECONDS = 5  # the systemd unit's --interval
READY_SECONDS = 60


def _write(partner: Any, started: float, number: int, written: list[tuple[int, float]]) -> None:
    """Writer ``number`` of WRITERS: events number, number + WRITERS, … of the schedule, on time
    (several writers, as several web workers, so that one slow commit does not hold the rate)."""
    from django.db import connection, transaction

    from ledger.services import outbox_record

    interval, index, count = 1.0 / RATE, number, 0
    try:
        while index < RATE * SECONDS:
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with transaction.atomic():
                outbox_record(type=EVENT_TYPE, aggregate=partner, partner=partner, mode="test", payload={"n": index})
            index, count = index + WRITERS, count + 1
    finally:
        written.append((count, time.perf_counter()))
        connection.close()


def _safety_net(every: float, stop: threading.Event) -> None:
    """The beat's relay task, on its schedule (a pass that finds the follower's lock does nothing),
    from a warm worker: a cold producer's first publish holds the relay lock for half a second."""
    from django.db import connection

    from events.follower import kafka_warm_up
    from events.relay import relay_outbox_drain

    kafka_warm_up()
    try:
        while not stop.wait(every):
            relay_outbox_drain()
    finally:
        connection.close()


def _start_follower(log: Path, bootstrap: str) -> subprocess.Popen[bytes]:
    from django.conf import settings

    from tests.processes import ROOT, process_env

    env = process_env(
        {
            "ENABLE_KAFKA": "true",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "KAFKA_TOPIC_EVENTS": settings.KAFKA_TOPIC_EVENTS,
            "LOG_LEVEL": "WARNING",
        }
    )
    command = [sys.executable, "manage.py", "relay_outbox", "--follow", "--interval", str(FALLBACK_POLL_SECONDS)]
    out = open(log, "ab")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_SECONDS
    while "relay_outbox listening" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the relay follower did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.1)
    return process


def _run(partner: Any, bootstrap: str, schedule: float, cluster: Any) -> tuple[int, float, int | None]:
    """Write RATE * SECONDS events with the follower and the safety net running; answer (written,
    seconds the writers took, the follower's exit status after SIGTERM)."""
    from ledger.models import OutboxEvent
    from tests.processes import stop

    log = Path(tempfile.mkstemp(prefix="bench-p8-relay-", suffix=".log")[1])
    follower = _start_follower(log, bootstrap)
    halt = threading.Event()
    net = threading.Thread(target=_safety_net, args=(schedule, halt))
    written: list[tuple[int, float]] = []
    started = time.perf_counter()
    writers = [threading.Thread(target=_write, args=(partner, started, n, written)) for n in range(WRITERS)]
    try:
        net.start()
        for writer in writers:
            writer.start()
        waiting = OutboxEvent.objects.filter(partner=partner, type=EVENT_TYPE, published_at__isnull=True)
        deadline = time.monotonic() + SECONDS + 120
        while (any(w.is_alive() for w in writers) or waiting.exists()) and time.monotonic() < deadline:
            cluster.drain_logs()
            time.sleep(0.5)
        for writer in writers:
            writer.join()
    finally:
        halt.set()
        net.join()
        stop(follower, signal.SIGTERM, timeout=30)
    return sum(count for count, _ in written), max(end for _, end in written) - started, follower.returncode


def _drain_backlog() -> int:
    """Relay what the earlier figures left unpublished (no relay runs during them), untimed: in
    production the relay runs all along, so the measured events must not queue behind thousands
    of rows written minutes before. How many rows that was."""
    from events.relay import relay_outbox_drain
    from ledger.models import OutboxEvent

    waiting = OutboxEvent.objects.filter(published_at__isnull=True)
    backlog = waiting.count()
    while waiting.exists():
        if relay_outbox_drain(batch_size=1000).published == 0:
            raise RuntimeError("the backlog of earlier figures could not be relayed")
    return backlog


def p8_outbox(results: dict[str, Any]) -> dict[str, Any]:
    from django.conf import settings
    from django.test import override_settings

    from events.kafka import reset_producer
    from ledger.models import OutboxEvent
    from tests.kafka_mock import start_mock_cluster

    cluster = start_mock_cluster()
    schedule = float(settings.CELERY_BEAT_SCHEDULE["events-relay-outbox"]["schedule"])
    kafka = {"bootstrap.servers": cluster.bootstrap_servers, "security.protocol": "PLAINTEXT"}
    with override_settings(ENABLE_KAFKA=True, KAFKA=kafka):
        reset_producer()
        try:
            backlog = _drain_backlog()
            partner = bench_partner("Bench P8").partner
            created, took, follower_status = _run(partner, cluster.bootstrap_servers, schedule, cluster)
        finally:
            reset_producer(flush_timeout=1.0)
    mine = OutboxEvent.objects.filter(partner=partner, type=EVENT_TYPE, published_at__isnull=False)
    stamps = mine.values_list("created_at", "published_at")
    lags = sorted((published - made).total_seconds() for made, published in stamps if published is not None)
    published = len(lags)
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else float("inf")
    return {
        "value": round(p99, 3),
        "unit": "s lag p99",
        "p50_s": round(lags[len(lags) // 2], 3) if lags else None,
        "max_s": round(lags[-1], 3) if lags else None,
        "reference": created,
        "reference_name": "events written",
        "written_per_s": round(created / took, 1),
        "published": published,
        "ratio": None,
        "relay": f"manage.py relay_outbox --follow (NOTIFY, fallback poll {FALLBACK_POLL_SECONDS} s) "
        f"+ the beat's pass every {schedule:g} s",
        "follower_exit_on_sigterm": follower_status,
        "backlog_relayed_before": backlog,
        "goal": f"lag p99 <= 1 s, published = created, at {RATE} events/s",
        # a writer that could not keep the rate (a busy machine) did not put the relay to the test
        "met": p99 <= 1.0 and published == created and created / took >= 0.95 * RATE,
        "rate_per_s": RATE,
    }


FIGURES = {"P8": p8_outbox}
