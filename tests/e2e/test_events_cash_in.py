"""A mobile-money cash-in through the partner API, end to end with the event pipeline: exactly
one signed ``transaction.succeeded`` webhook that verifies with the partner's secret, every
outbox row read back from Kafka in order, and Kafka down never stops the API."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from core.signing import parse_signature_header, verify
from events.kafka import reset_producer
from events.relay import relay_outbox_once
from events.tasks import relay_outbox
from ledger.models import OutboxEvent, Transaction
from ledger.selectors import ledger_check
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_process
from partners.models import ALL_SCOPES, Mode
from partners.services import partner_create
from tests.events.test_relay import assert_read_back_matches_outbox
from tests.kafka_mock import MockKafkaCluster, consume_all, kafka_mock_cluster, kafka_settings  # noqa: F401
from tests.mobilemoney.api_support import cash_in_body, connect_providers, paid_count
from tests.notifications.test_webhooks import HOOK_PATH, endpoint_factory, hooks_of_type  # noqa: F401
from tests.processes import celery_worker, free_port, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
CASH_INS = "/api/v1/mobile-money/cash-ins"


def test_a_cash_in_that_succeeds_gives_one_signed_webhook_and_reaches_kafka(
    live_server,
    kafka_mock_cluster: MockKafkaCluster,  # noqa: F811 - the imported fixture
    endpoint_factory,  # noqa: F811 - the imported fixture
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    endpoint = endpoint_factory([200])
    created = partner_create(name="Acme Pay", mode=Mode.TEST, scopes=ALL_SCOPES, webhook_url=endpoint.url)
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)
    topic = f"events-{uuid.uuid4().hex[:10]}"
    env = {
        "ENABLE_KAFKA": "true",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_mock_cluster.bootstrap_servers,
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "KAFKA_TOPIC_EVENTS": topic,
        "KAFKA_MESSAGE_TIMEOUT_MS": "3000",
    }
    with celery_worker(tmp_path / "worker.log", queues="payments,outbox,notifications", env=env):
        answer = client.post(CASH_INS, json=cash_in_body("wave"), idempotency_key="cash-in-1")
        assert answer.status == 202, answer.body
        txn_id = answer.body["id"]

        def succeeded_hook_arrived() -> bool:
            relay_outbox.delay()  # what beat does every 2 s
            time.sleep(0.3)
            return bool(hooks_of_type(endpoint, "transaction.succeeded"))

        wait_until(succeeded_hook_arrived, timeout=40, message="no transaction.succeeded webhook")
        wait_until(lambda: len(endpoint.received) == 3, timeout=10)

    txn = Transaction.objects.get(public_id=txn_id)
    assert txn.status == "succeeded"
    assert paid_count("wave", txn_id) == 1
    [hook] = hooks_of_type(endpoint, "transaction.succeeded")
    t, signatures = parse_signature_header(hook.headers["X-Signature"])
    assert verify(created.signing_secret, t, "POST", HOOK_PATH, hook.body, signatures[0])
    envelope = json.loads(hook.body)
    assert (envelope["data"]["id"], envelope["data"]["status"]) == (txn_id, "succeeded")
    # one webhook per event; deliveries run in parallel, so partners order them by occurred_at
    received = sorted((json.loads(h.body) for h in endpoint.received), key=lambda e: e["occurred_at"])
    assert [e["type"] for e in received] == ["transaction.created", "transaction.processing", "transaction.succeeded"]
    assert_read_back_matches_outbox(consume_all(kafka_mock_cluster.bootstrap_servers, topic))
    assert ledger_check().is_ok


def test_kafka_unreachable_the_api_keeps_accepting_and_rows_drain_later(
    live_server,
    kafka_settings: MockKafkaCluster,  # noqa: F811 - the imported fixture
    settings,
) -> None:  # type: ignore[no-untyped-def]
    settings.KAFKA_TOPIC_EVENTS = topic = f"events-{uuid.uuid4().hex[:10]}"
    settings.KAFKA = {"bootstrap.servers": f"127.0.0.1:{free_port()}", "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 1000
    reset_producer()
    connect_providers(live_server.url)
    created = partner_create(name="Acme Pay", mode=Mode.TEST, scopes=ALL_SCOPES)
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)
    for number in range(3):
        answer = client.post(
            CASH_INS,
            json=cash_in_body("wave", amount=str(1500 + number), client_reference=f"down-{number}"),
            idempotency_key=f"down-{number}",
        )
        assert answer.status == 202, answer.body
        cash_in_process(CashIn.objects.get(transaction__public_id=answer.body["id"]).pk)
    rows = OutboxEvent.objects.count()
    assert rows == 9
    outcome = relay_outbox_once()
    assert (outcome.published, outcome.waiting) == (0, rows)
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == rows

    settings.KAFKA = {"bootstrap.servers": kafka_settings.bootstrap_servers, "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 3000
    reset_producer()
    assert relay_outbox_once().published == rows
    assert_read_back_matches_outbox(consume_all(kafka_settings.bootstrap_servers, topic))
