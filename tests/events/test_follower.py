"""The relay's follower (events/follower.py, ``manage.py relay_outbox --follow``) and the writers'
notify (ledger/services/outbox.py).

The follower runs as production runs it, a real process, with its fallback poll set far beyond
every deadline here: a row that gets relayed was relayed because its writer's NOTIFY woke the
follower, not because a poll or a beat came round. Conditions are waited for with generous
deadlines; nothing is timed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from psycopg.conninfo import make_conninfo

from core.money import Money
from events.follower import FollowerStop, relay_follow
from events.relay import RELAY_LOCK_KEY
from ledger.models import OutboxEvent
from ledger.services import NewTransaction, outbox_record, transactions_create_bulk
from ledger.services.outbox import OUTBOX_CHANNEL
from partners.models import ALL_SCOPES, Mode, Partner
from partners.services import partner_create
from tests.kafka_mock import MockKafkaCluster, consume_all
from tests.log_capture import register_subprocess_log
from tests.processes import ROOT, process_env, stop, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

NEVER = "600"  # the fallback poll (s): far beyond every deadline of these tests


def make_partner() -> Partner:
    return partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=ALL_SCOPES).partner


def record_events(partner: Partner, count: int = 1) -> list[OutboxEvent]:
    """``count`` events written in one transaction of this process (not the follower's)."""
    with transaction.atomic():
        return [
            outbox_record(type="test.follower", aggregate=partner, partner=partner, mode=Mode.TEST, payload={"n": n})
            for n in range(count)
        ]


def is_relayed(events: list[OutboxEvent]) -> bool:
    pks = [event.pk for event in events]
    return not OutboxEvent.objects.filter(pk__in=pks, published_at__isnull=True).exists()


def start_follower(log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    register_subprocess_log(log)
    out = open(log, "ab")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, "manage.py", "relay_outbox", "--follow", "--interval", NEVER],
        cwd=ROOT,
        env=process_env({"ENABLE_KAFKA": "false", **(env or {})}),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture
def follower_log(tmp_path: Path) -> Path:
    return tmp_path / "relay.log"


def wait_listening(log: Path, times: int = 1) -> None:
    wait_until(
        lambda: log.read_text().count("relay_outbox listening") >= times,
        timeout=60,
        message=f"the follower did not listen ({times}):\n{log.read_text()[-2000:]}",
    )


@pytest.fixture
def follower(follower_log: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_follower(follower_log)
    try:
        wait_listening(follower_log)
        yield process
    finally:
        stop(process, signal.SIGKILL)


def test_a_committed_row_is_relayed_without_any_beat_or_poll(
    kafka_settings: MockKafkaCluster, follower_log: Path, settings: Any
) -> None:
    topic = f"events-{uuid.uuid4().hex[:10]}"
    settings.KAFKA_TOPIC_EVENTS = topic
    process = start_follower(
        follower_log,
        {
            "ENABLE_KAFKA": "true",
            "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
            "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "KAFKA_TOPIC_EVENTS": topic,
            "KAFKA_MESSAGE_TIMEOUT_MS": "3000",
        },
    )
    try:
        wait_listening(follower_log)
        partner = make_partner()
        events = record_events(partner, 3)
        wait_until(lambda: is_relayed(events), timeout=60, message="the follower was not woken")
        again = record_events(partner)  # and again: one wake-up does not end the following
        wait_until(lambda: is_relayed(again), timeout=60, message="the follower was not woken twice")
        assert process.poll() is None
    finally:
        stop(process, signal.SIGKILL)
    published = [json.loads(message.value)["id"] for message in consume_all(kafka_settings.bootstrap_servers, topic)]
    assert published == [event.public_id for event in [*events, *again]]  # acknowledged by Kafka, in order


def test_sigterm_stops_a_waiting_follower_cleanly(follower: subprocess.Popen[bytes], follower_log: Path) -> None:
    # waiting on its socket for a notification (the poll is 10 minutes away): woken by the signal
    stop(follower, signal.SIGTERM, timeout=30)
    assert follower.returncode == 0, follower_log.read_text()[-2000:]
    assert follower_log.read_text().rstrip().endswith("relay_outbox stopped")


def test_the_follower_survives_its_connections_being_dropped(
    follower: subprocess.Popen[bytes], follower_log: Path
) -> None:
    with connection.cursor() as cursor:  # every other session on the test database: the follower's two
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (terminated,) = cursor.fetchone()
    assert terminated >= 2
    wait_listening(follower_log, times=2)  # listening again on a new connection
    events = record_events(make_partner())
    wait_until(lambda: is_relayed(events), timeout=60, message="the follower did not recover")
    assert follower.poll() is None
    assert "outbox listener lost its connection" in follower_log.read_text()


def test_a_pass_that_finds_the_relay_lock_taken_is_retried(settings: Any) -> None:
    """The notification that woke the follower is consumed: if the beat's pass held the lock, the
    follower must not wait for the next notification (or the poll) to relay the row."""
    settings.ENABLE_KAFKA = False
    partner = make_partner()
    halt = FollowerStop()
    listening = threading.Event()
    outcomes: list[bool] = []

    def follow() -> None:
        try:
            relay_follow(
                stop=halt,
                poll_interval=float(NEVER),
                on_listening=listening.set,
                on_pass=lambda outcome: outcomes.append(outcome.lock_busy),
            )
        finally:
            connection.close()

    thread = threading.Thread(target=follow)
    with psycopg.connect(own_connection_info(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [RELAY_LOCK_KEY])  # as a pass under way holds it
        thread.start()
        try:
            assert listening.wait(60)
            events = record_events(partner)
            wait_until(lambda: outcomes.count(True) >= 2, timeout=60, message="no pass found the lock taken")
            assert not is_relayed(events)
            holder.execute("SELECT pg_advisory_unlock(%s)", [RELAY_LOCK_KEY])
            wait_until(lambda: is_relayed(events), timeout=60, message="the busy pass was not retried")
        finally:
            halt.set()
            thread.join(30)
            halt.close()
    assert not thread.is_alive()


def own_connection_info() -> str:
    """Where a connection of the test's own goes: the test database, outside Django."""
    params = connection.get_connection_params()
    return make_conninfo("", **{key: params[key] for key in ("dbname", "user", "host", "port") if params.get(key)})


def received_until_marker(listener: psycopg.Connection) -> list[str]:
    """Payloads on the channel up to this test's own marker, sent last: notifications reach a
    listener in commit order, so everything sent before the marker has arrived with it."""
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {OUTBOX_CHANNEL}, 'marker'")
    payloads: list[str] = []
    for notify in listener.notifies(timeout=60):
        if notify.payload == "marker":
            return payloads
        payloads.append(notify.payload)
    raise AssertionError(f"the marker did not arrive; got {payloads}")


def test_one_notify_per_committed_transaction_none_for_a_rollback() -> None:
    partner = make_partner()
    with psycopg.connect(own_connection_info(), autocommit=True) as listener:
        listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        record_events(partner, 3)
        assert received_until_marker(listener) == [""]  # three rows, one wake-up
        with pytest.raises(RuntimeError), transaction.atomic():
            record_events(partner, 2)
            raise RuntimeError("the change fails: its rows and their notify go")
        assert received_until_marker(listener) == []
        with transaction.atomic():
            with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint rolled back…
                record_events(partner)
                raise RuntimeError("inner")
            record_events(partner)  # …does not take the outer row's notify with it
        assert received_until_marker(listener) == [""]


def test_a_bulk_creation_wakes_the_follower_once() -> None:
    """Bulk rows go in with COPY (ledger/services/bulk.py), not through ``outbox_record``."""
    partner = make_partner()
    items = [NewTransaction(money=Money(1_000 + n, "XOF"), client_reference=f"bulk-{n}") for n in range(50)]
    with psycopg.connect(own_connection_info(), autocommit=True) as listener:
        listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        transactions_create_bulk(partner=partner, mode=Mode.TEST, kind="collection", provider="wave", items=items)
        assert OutboxEvent.objects.filter(partner=partner).count() == 50
        assert received_until_marker(listener) == [""]
