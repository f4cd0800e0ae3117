"""Kafka down for a while (issue 17, item 3): the relay's producer reaches librdkafka's mock
cluster (tests/kafka_mock.py) through the fault proxy, which is down for ``--outage-seconds``
(a few seconds in ``make test``, a minute in ``make test-outages``). Meanwhile the API keeps
accepting and the relay keeps trying; once Kafka is back every event is published, and the
consumer reads each event id exactly once, in order per transaction."""

from __future__ import annotations

import time
import uuid

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from events.kafka import reset_producer
from events.relay import relay_outbox_once
from ledger.models import OutboxEvent
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_process
from partners.models import ALL_SCOPES, Mode
from partners.services import partner_create
from tests.events.test_relay import assert_read_back_matches_outbox
from tests.faults.proxy import FaultProxy
from tests.kafka_mock import MockKafkaCluster, consume_all, kafka_mock_cluster, kafka_settings
from tests.mobilemoney.api_support import cash_in_body, connect_providers

__all__ = ["kafka_mock_cluster", "kafka_settings"]  # fixtures

pytestmark = pytest.mark.django_db(transaction=True)
CASH_INS = "/api/v1/mobile-money/cash-ins"


def test_kafka_down_for_a_while_the_api_accepts_and_every_event_is_published_once(
    live_server, kafka_settings: MockKafkaCluster, settings, outage_seconds: float
) -> None:  # type: ignore[no-untyped-def]
    settings.KAFKA_TOPIC_EVENTS = topic = f"events-{uuid.uuid4().hex[:10]}"
    host, port = kafka_settings.bootstrap_servers.rsplit(":", 1)
    connect_providers(live_server.url)
    created = partner_create(name="Acme Pay", mode=Mode.TEST, scopes=ALL_SCOPES)
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)
    with FaultProxy(host, int(port)) as kafka:
        settings.KAFKA = {"bootstrap.servers": kafka.address, "security.protocol": "PLAINTEXT"}
        settings.KAFKA_MESSAGE_TIMEOUT_MS = 1000
        reset_producer()
        started = time.monotonic()
        passes = 0
        with kafka.outage(outage_seconds):
            for number in range(3):
                body = cash_in_body("wave", amount=str(1500 + number), client_reference=f"kafka-down-{number}")
                answer = client.post(CASH_INS, json=body, idempotency_key=f"kafka-down-{number}")
                assert answer.status == 202, answer.body
                cash_in_process(CashIn.objects.get(transaction__public_id=answer.body["id"]).pk)
            rows = OutboxEvent.objects.count()
            while time.monotonic() - started < outage_seconds - 1.5:  # the relay's beat keeps trying
                outcome = relay_outbox_once()
                passes += 1
                assert outcome.published == 0
        assert rows == 9 and passes >= 1
        assert OutboxEvent.objects.filter(published_at__isnull=True).count() == rows
        settings.KAFKA_MESSAGE_TIMEOUT_MS = 5000
        published = 0
        deadline = time.monotonic() + 30
        while published < rows and time.monotonic() < deadline:
            published += relay_outbox_once().published
        assert published == rows
        assert relay_outbox_once().published == 0  # nothing twice
        assert kafka.connections >= 1 and kafka.faults_injected >= 1  # it went through the proxy, down then up
    assert_read_back_matches_outbox(consume_all(kafka_settings.bootstrap_servers, topic))  # each id once
