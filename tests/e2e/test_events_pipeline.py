"""The event pipeline with real processes: a Celery worker (queues outbox + notifications) runs
the relay task, publishes to librdkafka's mock cluster, delivers the signed webhook to a partner
endpoint on loopback, and sends pushes through the sandbox FCM (served by live_server) with
retries scheduled by the worker itself."""

from __future__ import annotations

import json
import uuid

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from core.signing import parse_signature_header, verify
from events.tasks import relay_outbox
from ledger.models import OutboxEvent
from notifications.demo import fcm_sandbox_connect
from notifications.models import PushNotification, WebhookDelivery
from partners.models import ALL_SCOPES, Mode
from partners.services import partner_create
from tests.events.test_relay import mixed_operations
from tests.kafka_mock import MockKafkaCluster, consume_all, kafka_mock_cluster  # noqa: F401
from tests.notifications.fcm_support import attempts_for
from tests.notifications.test_webhooks import HOOK_PATH, endpoint_factory, hooks_of_type  # noqa: F401
from tests.processes import celery_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def kafka_env(cluster: MockKafkaCluster, topic: str) -> dict[str, str]:
    return {
        "ENABLE_KAFKA": "true",
        "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap_servers,
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "KAFKA_TOPIC_EVENTS": topic,
        "KAFKA_MESSAGE_TIMEOUT_MS": "3000",
    }


def test_the_worker_relays_to_kafka_and_delivers_one_signed_webhook_per_event(
    kafka_mock_cluster: MockKafkaCluster,  # noqa: F811 - the imported fixture
    endpoint_factory,  # noqa: F811 - the imported fixture
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_factory([200])
    created = partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=ALL_SCOPES, webhook_url=endpoint.url)
    made = mixed_operations(created.partner, 4)
    events = OutboxEvent.objects.count()
    topic = f"events-{uuid.uuid4().hex[:10]}"
    with celery_worker(
        tmp_path / "worker.log", queues="outbox,notifications", env=kafka_env(kafka_mock_cluster, topic)
    ):
        relay_outbox.delay()
        wait_until(lambda: OutboxEvent.objects.filter(published_at__isnull=True).count() == 0, timeout=30)
        wait_until(lambda: len(endpoint.received) == events, timeout=30, message="webhooks not all delivered")
        relay_outbox.delay()  # a second pass (beat) hands nothing over twice
        wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").count() == events, timeout=10)

    assert WebhookDelivery.objects.count() == events
    assert len(endpoint.received) == events
    succeeded = hooks_of_type(endpoint, "transaction.succeeded")
    assert len(succeeded) == len([t for t in made if t.status == "succeeded"]) == 3  # cash-ins 0 and 3, collection
    event_ids = [hook.headers["X-Event-Id"] for hook in endpoint.received]
    assert len(set(event_ids)) == len(event_ids) == events  # exactly one webhook per event
    for hook in endpoint.received:
        t, signatures = parse_signature_header(hook.headers["X-Signature"])
        assert verify(created.signing_secret, t, "POST", HOOK_PATH, hook.body, signatures[0])
    messages = consume_all(kafka_mock_cluster.bootstrap_servers, topic)
    assert sorted(json.loads(m.value)["id"] for m in messages) == sorted(
        OutboxEvent.objects.values_list("public_id", flat=True)
    )


def test_the_worker_sends_a_push_and_retries_with_backoff(live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fcm_sandbox_connect(sandbox_url=live_server.url + "/sandbox/")
    created = partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=["notifications.push"])
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)
    with celery_worker(tmp_path / "worker.log", queues="notifications"):
        body = {"tokens": ["device-unavailable-7", "device-unregistered-7", "device-ok-7"], "body": "Solde: 1 500 XOF"}
        accepted = client.post("/api/v1/notifications/push", json=body, idempotency_key="e2e-push")
        assert accepted.status == 202
        wait_until(
            lambda: PushNotification.objects.get(public_id=accepted.body["id"]).status == "completed",
            timeout=30,
            message="the push did not complete",
        )
    final = client.get(f"/api/v1/notifications/push/{accepted.body['id']}").body
    assert [(t["status"], t["attempts"]) for t in final["targets"]] == [("delivered", 2), ("dead", 1), ("delivered", 1)]
    assert final["sends"] == 2
    assert attempts_for("device-unavailable-7") == 2
    assert attempts_for("device-unregistered-7") == 1
