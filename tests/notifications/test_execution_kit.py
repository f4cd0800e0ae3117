"""The push and webhook rails on the execution kit (issue 10).

- every FCM call made during a push leaves exactly one completed provider-call record per
  attempt, with its outcome (a retried send: two records; a lost answer: ``unknown``);
- one push or webhook delivery that fails unexpectedly is set aside and logged with its id;
  the others are sent, and the beat's safety net never picks the bad one up again;
- the push and events APIs refuse what FCM or Kafka cannot carry with a 400, never a 500.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.db import connection

from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import ProviderCall
from ledger.selectors import ledger_check
from notifications.demo import fcm_sandbox_connect
from notifications.models import PushNotification, PushTarget, WebhookDelivery
from notifications.push import push_notifications_due, push_send
from notifications.tasks import push_retry_due, push_send_task, webhook_deliver, webhook_retry_due
from notifications.webhooks import webhook_deliveries_due
from partners.models import ALL_SCOPES, Mode, SigningSecret
from partners.services import PartnerCreated, partner_create
from tests.notifications.fcm_support import delivered_to, push_policy_first_delay, requests_received
from tests.notifications.test_webhooks import endpoint_factory, succeeded_cash_in  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/api/v1/notifications/push"


@pytest.fixture
def created(live_server) -> PartnerCreated:  # type: ignore[no-untyped-def]
    # a short read timeout, so that the sandbox's stalled answer (SANDBOX_HANG_SECONDS) is lost
    fcm_sandbox_connect(sandbox_url=live_server.url + "/sandbox/", read_timeout_seconds=1.5)
    return partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=ALL_SCOPES)


@pytest.fixture
def client(live_server, created: PartnerCreated) -> AddonPartnerClient:  # type: ignore[no-untyped-def]
    return AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)


def accept(client: AddonPartnerClient, body: dict[str, object], key: str) -> PushNotification:
    answer = client.post(PATH, json=body, idempotency_key=key)
    assert answer.status == 202, answer.body
    return PushNotification.objects.get(public_id=answer.body["id"])


def calls_of(notification: PushNotification) -> list[tuple[str, str, str, str, str]]:
    rows = ProviderCall.objects.filter(reference=notification.public_id).order_by("id")
    for row in rows:
        assert row.completed_at is not None and row.latency_ms is not None, row
        assert row.transaction_id is None  # a push moves no money
    return [(row.rail, row.provider, row.mode, row.operation, row.outcome) for row in rows]


def test_every_fcm_call_of_a_push_leaves_one_completed_record_with_its_outcome(client, settings) -> None:  # type: ignore[no-untyped-def]
    push_policy_first_delay(settings, 0)
    settings.SANDBOX_HANG_SECONDS = 2.0
    ok = accept(client, {"tokens": ["device-a-1", "device-b-2"], "body": "hi"}, "k-ok")
    retried = accept(client, {"tokens": ["device-unavailable-1"], "body": "hi"}, "k-retry")
    dead = accept(client, {"tokens": ["device-unregistered-1"], "body": "hi"}, "k-dead")
    lost = accept(client, {"tokens": ["device-timeout-1"], "body": "hi"}, "k-lost")
    topic = accept(client, {"topic": "news", "body": "hi"}, "k-topic")
    assert ProviderCall.objects.count() == 0  # accepting calls nobody

    for notification in (ok, dead, topic):
        assert push_send(notification.pk).retry_in is None
    assert push_send(retried.pk).retry_in == 0.0  # UNAVAILABLE once, then delivered
    assert push_send(retried.pk).retry_in is None
    assert push_send(lost.pk).retry_in == 0.0  # the answer was lost: retryable, maybe delivered

    send = ("push", "fcm", "test", "send")
    assert calls_of(ok) == [(*send, "ok")]  # two tokens, one SDK call
    assert calls_of(retried) == [(*send, "unavailable"), (*send, "ok")]
    assert calls_of(dead) == [(*send, "rejected")]
    assert calls_of(lost) == [(*send, "unknown")]
    assert calls_of(topic) == [(*send, "ok")]
    assert ProviderCall.objects.count() == 6
    unknown = ProviderCall.objects.get(reference=lost.public_id)
    assert (unknown.error_code, unknown.retryable) == ("provider_outcome_unknown", True)
    assert ProviderCall.objects.get(reference=dead.public_id).http_status == 404
    assert len(delivered_to("device-timeout-1")) == 1  # FCM had it: only the answer was lost
    time.sleep(0.6)  # let the stalled simulator request finish before the database is flushed


def test_one_push_that_fails_unexpectedly_is_set_aside_and_the_others_are_sent(client, caplog) -> None:  # type: ignore[no-untyped-def]
    pushes = [accept(client, {"tokens": [f"device-{n}"], "body": "hi"}, f"k-{n}") for n in range(3)]
    bad = pushes[1]
    # a row the code can no longer read (an option that no longer exists): building it raises TypeError
    broken = {**bad.message, "android": {"volume": 3}}
    PushNotification.objects.filter(pk=bad.pk).update(message=broken)
    overdue = PushNotification.objects.filter(pk__in=[p.pk for p in pushes])
    overdue.update(next_send_at=PushNotification.objects.get(pk=bad.pk).created_at.replace(year=2020))
    assert sorted(push_notifications_due()) == sorted(p.pk for p in pushes)

    assert push_retry_due() == 3  # the beat's safety net enqueues them (by name) …
    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        for notification in pushes:  # … and a worker runs each task
            push_send_task(notification.pk)

    assert [r for r in caplog.records if bad.public_id in r.getMessage()], "the log names the push"
    target = PushTarget.objects.get(notification=bad)
    assert (target.status, target.error_code) == ("failed", "internal_error")
    assert PushNotification.objects.get(pk=bad.pk).status == "completed"
    for good in (pushes[0], pushes[2]):
        assert PushTarget.objects.get(notification=good).status == "delivered"
    assert delivered_to("device-1") == []
    before = requests_received()
    assert push_notifications_due() == [] and push_retry_due() == 0  # never picked up again
    assert push_send(bad.pk, force=True).sent == 0
    assert requests_received() == before


def test_one_webhook_delivery_that_fails_unexpectedly_is_set_aside_and_the_others_are_delivered(
    endpoint_factory,  # noqa: F811 - the imported fixture
    caplog,
) -> None:  # type: ignore[no-untyped-def]
    from events.relay import relay_outbox_once

    endpoint = endpoint_factory([200])
    good = partner_create(name="Good", mode=Mode.TEST, scopes=ALL_SCOPES, webhook_url=endpoint.url)
    bad = partner_create(name="Bad", mode=Mode.TEST, scopes=ALL_SCOPES, webhook_url=endpoint.url)
    succeeded_cash_in(good.partner)
    succeeded_cash_in(bad.partner)
    relay_outbox_once()
    # the bad partner's signing secret no longer decrypts (written under a key we no longer have)
    table = SigningSecret._meta.db_table
    with connection.cursor() as cursor:
        sql = f"UPDATE {table} SET secret = %s WHERE partner_id = %s"  # noqa: S608 - the model's own table
        cursor.execute(sql, ["not-a-ciphertext", bad.partner.pk])
    assert len(webhook_deliveries_due()) == 6
    bad_ids = set(WebhookDelivery.objects.filter(partner=bad.partner).values_list("public_id", flat=True))

    assert webhook_retry_due() == 6
    with caplog.at_level(logging.ERROR, logger="ledger.review"):
        for delivery_id in WebhookDelivery.objects.order_by("event_id").values_list("pk", flat=True):
            webhook_deliver(delivery_id)

    logged = {public_id for public_id in bad_ids for r in caplog.records if public_id in r.getMessage()}
    assert logged == bad_ids, "the log names each delivery set aside"
    assert set(WebhookDelivery.objects.filter(partner=good.partner).values_list("status", flat=True)) == {"delivered"}
    assert len(endpoint.received) == 3  # the good partner's three events
    for delivery in WebhookDelivery.objects.filter(partner=bad.partner):
        assert delivery.status == "failed" and delivery.last_error.startswith("Set aside"), delivery
        assert delivery.attempts.count() == 0
    assert webhook_deliveries_due() == [] and webhook_retry_due() == 0
    assert ledger_check().is_ok  # the cash-ins behind the events balance


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tokens": ["device-a-1"], "title": 12}, "title"),
        ({"tokens": ["device-a-1"], "body": ["x"]}, "body"),
        ({"tokens": ["device-a-1"], "body": "nul\x00byte"}, "body"),
        ({"tokens": ["device-a-1"], "body": "lone \ud800 surrogate"}, "body"),
        ({"tokens": ["device-a-1"], "data": {"k": "\udfff"}}, "data.k"),
        ({"tokens": ["device-\x00"], "body": "x"}, "tokens[0]"),
        ({"tokens": ["device-a-1", 7], "body": "x"}, "tokens[1]"),
        ({"tokens": "device-a-1", "body": "x"}, "tokens"),
        (
            {"tokens": ["device-a-1"], "body": "x", "options": {"android": {"ttl_seconds": "60"}}},
            "options.android.ttl_seconds",
        ),
        ({"tokens": ["device-a-1"], "body": "x", "sound": "on"}, "sound"),
    ],
)
def test_the_push_api_refuses_what_fcm_cannot_carry_with_a_400(
    client: AddonPartnerClient, body: dict[str, object], field: str
) -> None:
    answer = client.post(PATH, json=body, idempotency_key="k-invalid")
    assert answer.status == 400, answer.body
    assert answer.body["code"] == "validation_error"
    assert field in [error["field"] for error in answer.body["errors"]], answer.body
    assert PushNotification.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "lone \ud800"}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x", "extra": 1}, "extra"),
        ({}, "body"),
    ],
)
def test_the_events_api_refuses_bad_bodies_with_a_400(
    client: AddonPartnerClient, body: dict[str, object], field: str
) -> None:
    answer = client.post("/api/v1/events/test", json=body, idempotency_key="k-events")
    assert answer.status == 400, answer.body
    assert answer.body["code"] == "validation_error"
    assert [error["field"] for error in answer.body["errors"]] == [field]
