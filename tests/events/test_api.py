"""``POST /api/v1/events/test`` over real HTTP: 202 with where Kafka wrote it (read back by a
consumer), 400 for a topic that is not allowlisted, 503 ``kafka_disabled`` when switched off."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from partners.models import Mode
from partners.services import PartnerCreated, partner_create
from tests.kafka_mock import MockKafkaCluster, consume_all

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/api/v1/events/test"


@pytest.fixture
def created() -> PartnerCreated:
    return partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=["events.publish"])


@pytest.fixture
def client(live_server, created: PartnerCreated) -> AddonPartnerClient:  # type: ignore[no-untyped-def]
    return AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)


@pytest.fixture
def test_topic(settings) -> str:  # type: ignore[no-untyped-def]
    name = f"test-{uuid.uuid4().hex[:10]}"
    settings.KAFKA_TEST_TOPICS = ["addon-partner.test", name]
    return name


def test_a_json_message_is_published_and_read_back(
    kafka_settings: MockKafkaCluster, client: AddonPartnerClient, created: PartnerCreated, test_topic: str
) -> None:
    answer = client.post(PATH, json={"topic": test_topic, "json": {"hello": "dakar", "n": 1}}, idempotency_key="k-1")
    assert answer.status == 202, answer.body
    assert answer.body["topic"] == test_topic
    assert answer.body["content_type"] == "application/json"
    assert isinstance(answer.body["partition"], int)
    assert answer.body["offset"] == 0
    body = {"topic": test_topic, "json": {"hello": "dakar", "n": 1}}
    # another signature time: the replay guard refuses the very same signed request
    replay = client.request("POST", PATH, json=body, idempotency_key="k-1", t=int(time.time()) + 1)
    assert replay.status == 202
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body == answer.body

    messages = consume_all(kafka_settings.bootstrap_servers, test_topic)
    assert len(messages) == 1  # the replay published nothing
    assert json.loads(messages[0].value) == {"hello": "dakar", "n": 1}
    assert messages[0].key == created.partner.public_id
    assert messages[0].partition == answer.body["partition"]


def test_a_text_message(kafka_settings: MockKafkaCluster, client: AddonPartnerClient, test_topic: str) -> None:
    answer = client.post(PATH, json={"topic": test_topic, "text": "ping"}, idempotency_key="k-2")
    assert answer.status == 202, answer.body
    assert [m.value for m in consume_all(kafka_settings.bootstrap_servers, test_topic)] == [b"ping"]


def test_a_topic_not_allowlisted_is_refused(
    kafka_settings: MockKafkaCluster, client: AddonPartnerClient, test_topic: str
) -> None:
    answer = client.post(PATH, json={"topic": "addon-partner.events", "text": "x"}, idempotency_key="k-3")
    assert answer.status == 400
    assert answer.body["code"] == "validation_error"
    assert answer.body["errors"][0]["field"] == "topic"
    both = client.post(PATH, json={"topic": test_topic, "text": "x", "json": {}}, idempotency_key="k-4")
    assert both.status == 400
    assert consume_all(kafka_settings.bootstrap_servers, "addon-partner.events") == []
    assert consume_all(kafka_settings.bootstrap_servers, test_topic) == []


def test_kafka_disabled_answers_503(
    kafka_settings: MockKafkaCluster, client: AddonPartnerClient, test_topic: str, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ENABLE_KAFKA = False
    answer = client.post(PATH, json={"topic": test_topic, "text": "x"}, idempotency_key="k-5")
    assert answer.status == 503
    assert answer.body["code"] == "kafka_disabled"
    assert consume_all(kafka_settings.bootstrap_servers, test_topic) == []


def test_the_scope_is_required(live_server) -> None:  # type: ignore[no-untyped-def]
    other = partner_create(name="No Events", mode=Mode.TEST, scopes=["transactions.read"])
    client = AddonPartnerClient(live_server.url, other.api_key, other.signing_secret, timeout=15)
    answer = client.post(PATH, json={"text": "x"}, idempotency_key="k-6")
    assert answer.status == 403
    assert answer.body["code"] == "scope_missing"
