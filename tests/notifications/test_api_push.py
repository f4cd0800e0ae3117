"""Push API over real HTTP (issue 7 acceptance): the sandbox FCM is served by live_server, the
send task's body runs in-process (the real code; test_api_push_worker.py runs a real worker)."""

from __future__ import annotations

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from notifications.demo import fcm_sandbox_connect
from notifications.models import PushNotification, PushTarget
from notifications.push import push_send
from partners.models import Mode
from partners.services import PartnerCreated, partner_create
from tests.notifications.fcm_support import (
    attempts_for,
    delivered,
    delivered_to,
    push_policy_first_delay,
    requests_received,
)

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/api/v1/notifications/push"


@pytest.fixture
def created(live_server) -> PartnerCreated:  # type: ignore[no-untyped-def]
    fcm_sandbox_connect(sandbox_url=live_server.url + "/sandbox/")
    return partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=["notifications.push"])


@pytest.fixture
def client(live_server, created: PartnerCreated) -> AddonPartnerClient:  # type: ignore[no-untyped-def]
    return AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=15)


def send_now(public_id: str, *, force: bool = False) -> float | None:
    notification = PushNotification.objects.get(public_id=public_id)
    return push_send(notification.pk, force=force).retry_in


def test_three_tokens_one_unregistered_gives_two_delivered_and_one_dead(client: AddonPartnerClient) -> None:
    tokens = ["device-a-1", "device-unregistered-2", "device-b-3"]
    body = {"tokens": tokens, "title": "Paiement reçu", "body": "1 500 XOF", "data": {"txn": "txn_1"}}
    accepted = client.post(PATH, json=body, idempotency_key="push-1")
    assert accepted.status == 202, accepted.body
    assert accepted.body["status"] == "queued"
    assert [t["status"] for t in accepted.body["targets"]] == ["pending"] * 3
    assert requests_received() == 0  # nothing is sent inside the request

    assert send_now(accepted.body["id"]) is None
    answer = client.get(f"{PATH}/{accepted.body['id']}")
    assert answer.status == 200
    assert answer.body["status"] == "completed"
    assert answer.body["summary"] == {"pending": 0, "delivered": 2, "dead": 1, "failed": 0}
    by_token = {t["target"]: t for t in answer.body["targets"]}
    assert by_token["device-a-1"]["status"] == "delivered"
    assert by_token["device-a-1"]["message_id"].startswith("projects/addon-sandbox/messages/")
    assert by_token["device-unregistered-2"] == {
        "target": "device-unregistered-2",
        "status": "dead",
        "message_id": None,
        "error_code": "UNREGISTERED",
        "attempts": 1,
    }
    assert len(delivered()) == 2
    assert delivered_to("device-a-1")[0]["message"]["data"] == {"txn": "txn_1"}

    # the dead token is never sent again, even when the send runs again
    before = requests_received()
    assert send_now(accepted.body["id"], force=True) is None
    assert requests_received() == before
    assert attempts_for("device-unregistered-2") == 1


def test_a_retryable_error_is_retried_then_succeeds(client: AddonPartnerClient, settings) -> None:  # type: ignore[no-untyped-def]
    push_policy_first_delay(settings, 0)  # due at once; the backoff itself is checked below
    accepted = client.post(
        PATH, json={"tokens": ["device-unavailable-1", "device-ok-2"], "body": "hi"}, idempotency_key="p2"
    )
    assert accepted.status == 202
    assert send_now(accepted.body["id"]) == 0.0
    first = client.get(f"{PATH}/{accepted.body['id']}").body
    assert first["status"] == "queued"
    assert [(t["status"], t["error_code"]) for t in first["targets"]] == [
        ("pending", "UNAVAILABLE"),
        ("delivered", None),
    ]

    assert send_now(accepted.body["id"]) is None
    final = client.get(f"{PATH}/{accepted.body['id']}").body
    assert final["status"] == "completed"
    assert final["sends"] == 2
    assert [(t["status"], t["attempts"]) for t in final["targets"]] == [("delivered", 2), ("delivered", 1)]
    assert attempts_for("device-unavailable-1") == 2
    assert len(delivered_to("device-ok-2")) == 1  # the delivered one was not sent again


def test_quota_and_internal_back_off(client: AddonPartnerClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SANDBOX_POLL_FIRST_SECONDS = 5  # the sandbox cap (2 s) would shorten the push policy's first delay
    accepted = client.post(PATH, json={"tokens": ["device-quota-1"], "body": "hi"}, idempotency_key="p3")
    assert send_now(accepted.body["id"]) == 30.0  # Retry-After: 30 from FCM
    assert send_now(accepted.body["id"]) is None  # not due: nothing sent
    assert attempts_for("device-quota-1") == 1
    internal = client.post(PATH, json={"tokens": ["device-internal-1"], "body": "hi"}, idempotency_key="p4")
    assert send_now(internal.body["id"]) == 5.0  # base backoff
    assert send_now(internal.body["id"], force=True) is None
    assert PushTarget.objects.get(target="device-internal-1").status == "delivered"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tokens": ["device-a-1"], "data": {"google.sent_time": "1"}}, "data.google.sent_time"),
        ({"tokens": ["device-a-1"], "data": {"from": "x"}}, "data.from"),
        ({"tokens": ["device-a-1"], "body": "x" * 5000}, "payload"),
        ({"topic": "news", "body": "x" * 2100}, "payload"),
        ({"tokens": ["device-a-1"], "data": {"amount": 1500}}, "data.amount"),
        ({"tokens": ["device-a-1"], "topic": "news", "body": "x"}, "targets"),
        ({"tokens": ["device-a-1"], "body": "x", "options": {"android": {"priority": "urgent"}}}, "android.priority"),
        ({"tokens": ["device-a-1"], "body": "x", "options": {"apns": {"volume": 3}}}, "options.apns"),
    ],
)
def test_an_invalid_push_is_refused_and_nothing_is_sent(client: AddonPartnerClient, body: dict, field: str) -> None:  # type: ignore[type-arg]
    answer = client.post(PATH, json=body, idempotency_key="p-invalid")
    assert answer.status == 400, answer.body
    assert answer.body["code"] == "validation_error"
    assert field in [error["field"] for error in answer.body["errors"]]
    assert PushNotification.objects.count() == 0
    assert requests_received() == 0  # the simulator saw nothing
    fixed = client.post(PATH, json={"tokens": ["device-a-1"], "body": "ok"}, idempotency_key="p-invalid")
    assert fixed.status == 202  # the refused request freed its idempotency key


def test_a_topic_push_and_an_idempotent_replay(client: AddonPartnerClient) -> None:
    body = {"topic": "promotions", "title": "Offre", "options": {"android": {"priority": "high", "ttl_seconds": 60}}}
    accepted = client.post(PATH, json=body, idempotency_key="p5")
    assert accepted.status == 202
    assert accepted.body["target_kind"] == "topic"
    assert send_now(accepted.body["id"]) is None
    [target] = client.get(f"{PATH}/{accepted.body['id']}").body["targets"]
    assert (target["target"], target["status"]) == ("promotions", "delivered")
    assert delivered_to("promotions")[0]["message"]["android"]["priority"] == "high"
    assert PushNotification.objects.count() == 1


def test_another_partner_cannot_read_a_push(live_server, client: AddonPartnerClient) -> None:  # type: ignore[no-untyped-def]
    accepted = client.post(PATH, json={"tokens": ["device-a-1"], "body": "x"}, idempotency_key="p6")
    other = partner_create(name="Other", mode=Mode.TEST, scopes=["notifications.push"])
    other_client = AddonPartnerClient(live_server.url, other.api_key, other.signing_secret, timeout=15)
    assert other_client.get(f"{PATH}/{accepted.body['id']}").status == 404
    assert client.get(f"{PATH}/ntf_unknown").status == 404


def test_a_final_transaction_state_notifies_the_end_users_devices_once(created: PartnerCreated) -> None:
    from core.money import Money
    from events.relay import relay_outbox_once
    from ledger.models import Transaction
    from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_transition

    account = account_get_or_create_partner_account(partner=created.partner, mode=Mode.TEST, currency="XOF")
    txn = transaction_create(
        partner=created.partner,
        mode=Mode.TEST,
        kind=Transaction.Kind.CASH_IN,
        provider="wave",
        money=Money.parse("2500", "XOF"),
        client_reference="order-9",
        metadata={"notify_device_tokens": ["device-phone-1", "device-unregistered-9"]},
        hold_account=account,
    )
    relay_outbox_once()
    assert PushNotification.objects.count() == 0  # created and processing are not final
    txn = transaction_transition(transaction=txn, to_status="processing", cause="worker")
    txn = transaction_transition(transaction=txn, to_status="succeeded", cause="worker")
    relay_outbox_once()
    relay_outbox_once()
    notification = PushNotification.objects.get()
    assert notification.source_event is not None
    assert notification.source_event.type == "transaction.succeeded"
    push_send(notification.pk)
    [record] = delivered_to("device-phone-1")
    assert record["message"]["notification"] == {"title": "Transaction réussie", "body": "2500 XOF · order-9"}
    assert record["message"]["data"]["transaction_id"] == txn.public_id
    assert dict(notification.targets.values_list("target", "status")) == {
        "device-phone-1": "delivered",
        "device-unregistered-9": "dead",
    }


def test_without_an_fcm_connection_nothing_is_sent_and_retries_are_bounded(
    client: AddonPartnerClient, settings
) -> None:  # type: ignore[no-untyped-def]
    from core.policy import policy_for
    from partners.models import ProviderConnection

    push_policy_first_delay(settings, 0)
    MAX_SENDS = policy_for("push", "test").max_attempts  # the policy bounds the sends
    ProviderConnection.objects.filter(connector="fcm").update(is_enabled=False)
    accepted = client.post(PATH, json={"tokens": ["device-a-1"], "body": "x"}, idempotency_key="p7")
    assert accepted.status == 202
    for _ in range(MAX_SENDS - 1):
        assert send_now(accepted.body["id"]) == 0.0
    assert send_now(accepted.body["id"]) is None
    final = client.get(f"{PATH}/{accepted.body['id']}").body
    assert final["status"] == "completed"
    assert final["sends"] == MAX_SENDS
    assert [(t["status"], t["error_code"], t["attempts"]) for t in final["targets"]] == [("failed", "not_found", 0)]
    assert requests_received() == 0


def test_an_overdue_push_is_found_by_the_safety_net(client: AddonPartnerClient) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from notifications.push import push_notifications_due

    accepted = client.post(PATH, json={"tokens": ["device-a-1"], "body": "x"}, idempotency_key="p8")
    notification = PushNotification.objects.get(public_id=accepted.body["id"])
    assert push_notifications_due() == []  # just queued: its own task is on its way
    overdue = timezone.now() - timedelta(seconds=60)
    # a worker died mid-send: its lease expired, the redelivered task found it still held
    PushNotification.objects.filter(pk=notification.pk).update(next_send_at=overdue, lease_until=overdue)
    assert push_notifications_due() == [notification.pk]
    send_now(accepted.body["id"])
    assert push_notifications_due() == []
