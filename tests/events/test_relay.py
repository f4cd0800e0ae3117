"""The outbox relay against librdkafka's mock cluster, read back by a real consumer (issue 7).

Published = created, order kept per aggregate, rows wait while Kafka is unreachable and drain
when it is back, nothing leaves with ENABLE_KAFKA=false, and a relay process killed with
SIGKILL and restarted loses nothing (consumers de-duplicate by event id).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from core.metrics import outbox_lag_seconds
from core.money import Money
from events.kafka import reset_producer
from events.relay import outbox_lag_update, relay_outbox_once
from ledger.models import OutboxEvent, Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_transition
from partners.models import ALL_SCOPES, Mode, Partner
from partners.services import partner_create
from tests.kafka_mock import MockKafkaCluster, consume_all
from tests.processes import ROOT, process_env, stop, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def topic(settings) -> str:  # type: ignore[no-untyped-def]
    name = f"events-{uuid.uuid4().hex[:10]}"
    settings.KAFKA_TOPIC_EVENTS = name
    return name


def mixed_operations(partner: Partner, count: int) -> list[Transaction]:
    """``count`` cash-ins (succeeded, failed, left pending, in turn) and one collection."""
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    made: list[Transaction] = []
    for number in range(count):
        txn = transaction_create(
            partner=partner,
            mode=Mode.TEST,
            kind=Transaction.Kind.CASH_IN,
            provider="wave",
            money=Money(1000 + number, "XOF"),
            client_reference=f"op-{number}",
            hold_account=account,
        )
        if number % 3 != 2:
            txn = transaction_transition(transaction=txn, to_status="processing", cause="worker")
            final = "succeeded" if number % 3 == 0 else "failed"
            txn = transaction_transition(transaction=txn, to_status=final, cause="worker")
        made.append(txn)
    collection = transaction_create(
        partner=partner, mode=Mode.TEST, kind=Transaction.Kind.COLLECTION, provider="wave", money=Money(5000, "XOF")
    )
    collection = transaction_transition(transaction=collection, to_status="processing", cause="worker")
    made.append(transaction_transition(transaction=collection, to_status="succeeded", cause="callback"))
    return made


def make_partner() -> Partner:
    return partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=ALL_SCOPES).partner


def assert_read_back_matches_outbox(messages: list, *, allow_duplicates: bool = False) -> None:  # type: ignore[type-arg]
    created = list(OutboxEvent.objects.order_by("id"))
    envelopes = [json.loads(message.value) for message in messages]
    ids = [envelope["id"] for envelope in envelopes]
    if not allow_duplicates:
        assert len(ids) == len(set(ids))
    assert set(ids) == {event.public_id for event in created}
    # order per aggregate: each key's first-seen sequence is the outbox order of that aggregate
    expected: dict[str, list[str]] = defaultdict(list)
    for event in created:
        expected[event.aggregate_id].append(event.public_id)
    seen: dict[str, list[str]] = defaultdict(list)
    for message, envelope in zip(messages, envelopes, strict=True):
        assert message.key == envelope["data"]["id"]
        if envelope["id"] not in seen[message.key]:
            seen[message.key].append(envelope["id"])
    assert seen == expected


def test_every_outbox_row_is_read_back_once_in_order(kafka_settings: MockKafkaCluster, topic: str) -> None:
    partner = make_partner()
    mixed_operations(partner, 9)
    created = OutboxEvent.objects.count()
    assert created == 3 * 3 + 3 * 3 + 3 + 3  # succeeded and failed: 3 rows each; pending: 1; collection: 3
    outcome = relay_outbox_once(batch_size=500)
    assert (outcome.claimed, outcome.published, outcome.waiting) == (created, created, 0)
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 0
    assert relay_outbox_once().claimed == 0

    messages = consume_all(kafka_settings.bootstrap_servers, topic)
    assert len(messages) == created
    assert_read_back_matches_outbox(messages)
    first = json.loads(messages[0].value)
    assert set(first) == {"id", "type", "occurred_at", "partner", "mode", "data"}
    assert first["partner"] == partner.public_id
    assert messages[0].headers["event-id"] == first["id"].encode()


def test_kafka_unreachable_rows_wait_then_drain(kafka_settings: MockKafkaCluster, topic: str, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.processes import free_port

    settings.KAFKA = {"bootstrap.servers": f"127.0.0.1:{free_port()}", "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 1000
    reset_producer()
    partner = make_partner()
    mixed_operations(partner, 3)  # the services keep accepting: nothing waits on Kafka
    created = OutboxEvent.objects.count()
    outcome = relay_outbox_once()
    assert (outcome.claimed, outcome.published, outcome.waiting) == (created, 0, created)
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == created
    assert set(OutboxEvent.objects.values_list("attempts", flat=True)) == {1}
    assert outbox_lag_update() > 0
    assert outbox_lag_seconds._value.get() > 0  # type: ignore[attr-defined]

    settings.KAFKA = {"bootstrap.servers": kafka_settings.bootstrap_servers, "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 3000
    reset_producer()
    outcome = relay_outbox_once()
    assert (outcome.published, outcome.waiting) == (created, 0)
    assert outbox_lag_seconds._value.get() == 0  # type: ignore[attr-defined]
    assert_read_back_matches_outbox(consume_all(kafka_settings.bootstrap_servers, topic))


def test_kafka_disabled_sends_nothing(kafka_settings: MockKafkaCluster, topic: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ENABLE_KAFKA = False
    partner = make_partner()
    mixed_operations(partner, 2)
    created = OutboxEvent.objects.count()
    outcome = relay_outbox_once()
    # relayed (webhooks and push rules got them), but not a byte to Kafka
    assert (outcome.claimed, outcome.published) == (created, created)
    assert consume_all(kafka_settings.bootstrap_servers, topic) == []


def start_relay(log: Path, bootstrap: str, topic: str) -> subprocess.Popen[bytes]:
    env = process_env(
        {
            "ENABLE_KAFKA": "true",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "KAFKA_TOPIC_EVENTS": topic,
            "KAFKA_MESSAGE_TIMEOUT_MS": "3000",
        }
    )
    out = open(log, "ab")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, "manage.py", "relay_outbox", "--batch-size", "5", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def unpublished() -> int:
    return OutboxEvent.objects.filter(published_at__isnull=True).count()


def test_relay_killed_and_restarted_loses_nothing(kafka_settings: MockKafkaCluster, topic: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    partner = make_partner()
    mixed_operations(partner, 150)
    created = OutboxEvent.objects.count()
    log = tmp_path / "relay.log"
    relay = start_relay(log, kafka_settings.bootstrap_servers, topic)
    try:
        wait_until(lambda: unpublished() < created, timeout=30, interval=0.005, message="nothing published")
        stop(relay, signal.SIGKILL)
        left = unpublished()
        relay = start_relay(log, kafka_settings.bootstrap_servers, topic)
        wait_until(lambda: log.read_text().count("relay_outbox started") == 2, timeout=30)
        wait_until(lambda: unpublished() == 0, timeout=60, message="the restarted relay did not drain")
        stop(relay, signal.SIGTERM)
        assert relay.returncode == 0, log.read_text()[-2000:]
    finally:
        stop(relay, signal.SIGKILL)
    messages = consume_all(kafka_settings.bootstrap_servers, topic)
    distinct = {json.loads(message.value)["id"] for message in messages}
    assert len(distinct) == created
    assert len(messages) >= created
    assert_read_back_matches_outbox(messages, allow_duplicates=True)
    assert log.read_text().count("relay_outbox stopped") == 1  # the killed one never said it
    assert 0 < left < created
    print(f"relay kill test: {created} rows, {left} unpublished at the kill, {len(messages)} messages read")
