"""Partner webhooks (issue 7 acceptance): one signed delivery per event, retries on 5xx only,
every attempt recorded, URLs checked again before sending. The partner endpoint is a real HTTP
server on loopback (allowed for test-mode partners while the sandbox is enabled,
partners/webhooks.py); the relay and the delivery task run in-process (the real code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.money import Money
from core.signing import parse_signature_header, timestamp_is_fresh, verify
from events.relay import relay_outbox_once
from ledger.models import OutboxEvent, Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_transition
from notifications.models import WebhookAttempt, WebhookDelivery
from notifications.webhooks import webhook_delivery_attempt, webhook_delivery_replay
from partners.models import ALL_SCOPES, Mode, Partner
from partners.services import PartnerCreated, partner_create
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)
HOOK_PATH = "/hooks/addon?source=gateway"


@dataclass
class ReceivedHook:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PartnerEndpoint:
    """A partner's webhook endpoint answering the scripted statuses in turn (then the last one)."""

    statuses: list[int]
    received: list[ReceivedHook] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _handler(endpoint: PartnerEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            endpoint.received.append(ReceivedHook(self.path, dict(self.headers.items()), body))
            status = endpoint.next_status()
            answer = json.dumps({"ok": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def endpoint_factory() -> Iterator[object]:
    servers: list[ThreadingHTTPServer] = []

    def start(statuses: list[int]) -> PartnerEndpoint:
        endpoint = PartnerEndpoint(list(statuses))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
        endpoint.port = int(server.server_address[1])
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return endpoint

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def webhook_policy(settings, **changes: float) -> None:  # type: ignore[no-untyped-def]
    """Change the "webhooks" execution policy (core/policy.py) for one test."""
    policies = settings.EXECUTION_POLICIES
    settings.EXECUTION_POLICIES = {**policies, "webhooks": replace(policies["webhooks"], **changes)}


def make_partner(webhook_url: str) -> PartnerCreated:
    return partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=ALL_SCOPES, webhook_url=webhook_url)


def succeeded_cash_in(partner: Partner) -> Transaction:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    txn = transaction_create(
        partner=partner,
        mode=Mode.TEST,
        kind=Transaction.Kind.CASH_IN,
        provider="wave",
        money=Money.parse("1500", "XOF"),
        client_reference="order-1",
        hold_account=account,
    )
    txn = transaction_transition(transaction=txn, to_status="processing", cause="worker")
    return transaction_transition(transaction=txn, to_status="succeeded", cause="worker")


def deliver_all() -> None:
    for delivery_id in WebhookDelivery.objects.order_by("event_id").values_list("pk", flat=True):
        webhook_delivery_attempt(delivery_id)


def hooks_of_type(endpoint: PartnerEndpoint, event_type: str) -> list[ReceivedHook]:
    return [hook for hook in endpoint.received if json.loads(hook.body)["type"] == event_type]


def test_a_succeeded_transaction_gives_exactly_one_signed_webhook(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_factory([200])
    created = make_partner(endpoint.url)
    txn = succeeded_cash_in(created.partner)
    relay_outbox_once()
    relay_outbox_once()  # a second pass hands nothing over twice
    deliver_all()
    deliver_all()  # delivered deliveries are never sent again

    events = list(OutboxEvent.objects.filter(aggregate_id=txn.public_id).order_by("id"))
    assert [e.type for e in events] == ["transaction.created", "transaction.processing", "transaction.succeeded"]
    assert WebhookDelivery.objects.count() == 3
    succeeded = hooks_of_type(endpoint, "transaction.succeeded")
    assert len(succeeded) == 1
    hook = succeeded[0]
    assert hook.path == HOOK_PATH
    t, signatures = parse_signature_header(hook.headers["X-Signature"])
    assert timestamp_is_fresh(t)
    assert verify(created.signing_secret, t, "POST", HOOK_PATH, hook.body, signatures[0])
    assert not verify("ss_test_someone-else", t, "POST", HOOK_PATH, hook.body, signatures[0])
    envelope = json.loads(hook.body)
    assert hook.headers["X-Event-Id"] == envelope["id"] == events[2].public_id
    assert envelope["partner"] == created.partner.public_id
    assert envelope["mode"] == "test"
    assert envelope["data"]["id"] == txn.public_id
    assert envelope["data"]["status"] == "succeeded"
    assert envelope["data"]["amount"] == "1500"
    delivery = WebhookDelivery.objects.get(event=events[2])
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    attempt = delivery.attempts.get()
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "delivered", 200)
    assert attempt.response_excerpt == '{"ok": true}'


def test_an_endpoint_answering_500_then_200_gets_the_event_twice_with_one_event_id(endpoint_factory, settings) -> None:  # type: ignore[no-untyped-def]
    webhook_policy(settings, first_delay=0)  # the retry is due at once (backoff itself: test below)
    endpoint = endpoint_factory([500, 200])
    created = make_partner(endpoint.url)
    account = account_get_or_create_partner_account(partner=created.partner, mode=Mode.TEST, currency="XOF")
    transaction_create(
        partner=created.partner,
        mode=Mode.TEST,
        kind=Transaction.Kind.CASH_IN,
        provider="wave",
        money=Money.parse("100", "XOF"),
        hold_account=account,
    )
    relay_outbox_once()
    delivery = WebhookDelivery.objects.get()
    first = webhook_delivery_attempt(delivery.pk)
    assert (first.status, first.retry_in) == ("pending", 0.0)
    second = webhook_delivery_attempt(delivery.pk)
    assert second.status == "delivered"
    assert webhook_delivery_attempt(delivery.pk).attempted is False

    assert len(endpoint.received) == 2
    assert {hook.headers["X-Event-Id"] for hook in endpoint.received} == {delivery.event_public_id}
    assert endpoint.received[0].body == endpoint.received[1].body
    attempts = list(delivery.attempts.order_by("number").values_list("number", "outcome", "status_code"))
    assert attempts == [(1, "retryable", 500), (2, "delivered", 200)]


def test_an_endpoint_answering_400_gets_the_event_once(endpoint_factory, settings) -> None:  # type: ignore[no-untyped-def]
    webhook_policy(settings, first_delay=0)
    endpoint = endpoint_factory([400])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    deliver_all()
    deliver_all()
    assert len(endpoint.received) == 3  # one per event, none retried
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert WebhookAttempt.objects.count() == 3
    assert set(WebhookAttempt.objects.values_list("outcome", "status_code")) == {("refused", 400)}


def test_retries_back_off_exponentially_and_stop_after_the_window(endpoint_factory, settings) -> None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_factory([503])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    delivery = WebhookDelivery.objects.order_by("id").first()
    assert delivery is not None
    assert webhook_delivery_attempt(delivery.pk).retry_in == 30.0
    assert webhook_delivery_attempt(delivery.pk).attempted is False  # not due for 30 s
    assert webhook_delivery_attempt(delivery.pk, force=True).retry_in == 60.0
    webhook_policy(settings, review_after=60)  # the next delay (120 s) ends past the window
    last = webhook_delivery_attempt(delivery.pk, force=True)
    assert (last.status, last.retry_in) == ("failed", None)
    assert len(endpoint.received) == 3


def test_a_closed_port_is_retried_and_recorded(settings) -> None:  # type: ignore[no-untyped-def]
    created = make_partner(f"http://127.0.0.1:{free_port()}/hooks")
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    delivery = WebhookDelivery.objects.order_by("id").first()
    assert delivery is not None
    result = webhook_delivery_attempt(delivery.pk)
    assert (result.status, result.retry_in) == ("pending", 30.0)
    attempt = delivery.attempts.get()
    assert attempt.outcome == "retryable"
    assert attempt.status_code is None
    assert "cannot connect" in attempt.error


def test_the_url_is_checked_again_before_sending(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    """Saving an SSRF URL is refused (tests/partners/test_webhooks.py); a URL that stopped being
    acceptable after saving (here: written behind the services' back) is never called."""
    endpoint = endpoint_factory([200])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    Partner.objects.filter(pk=created.partner.pk).update(webhook_url="http://169.254.169.254/latest/meta-data")
    relay_outbox_once()
    deliver_all()
    assert endpoint.received == []
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert set(WebhookAttempt.objects.values_list("outcome", flat=True)) == {"url_refused"}


def test_replay_sends_the_same_event_again(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_factory([200])
    created = make_partner(endpoint.url)
    account = account_get_or_create_partner_account(partner=created.partner, mode=Mode.TEST, currency="XOF")
    transaction_create(
        partner=created.partner,
        mode=Mode.TEST,
        kind=Transaction.Kind.CASH_IN,
        provider="wave",
        money=Money.parse("100", "XOF"),
        hold_account=account,
    )
    relay_outbox_once()
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_attempt(delivery.pk)
    replayed = webhook_delivery_replay(delivery)
    assert replayed.status == "pending"
    webhook_delivery_attempt(delivery.pk)
    assert [hook.headers["X-Event-Id"] for hook in endpoint.received] == [delivery.event_public_id] * 2
    assert list(delivery.attempts.values_list("number", flat=True)) == [1, 2]


def test_partners_without_a_webhook_url_get_no_delivery() -> None:
    created = make_partner("")
    succeeded_cash_in(created.partner)
    outcome = relay_outbox_once()
    assert outcome.claimed == 3
    assert WebhookDelivery.objects.count() == 0


def test_the_ops_console_lists_and_replays_deliveries(endpoint_factory, staff_client) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from notifications.demo import seed_push
    from notifications.models import PushNotification
    from partners.demo import DemoContext

    endpoint = endpoint_factory([200])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    deliver_all()
    delivery = WebhookDelivery.objects.order_by("id").first()
    assert delivery is not None
    changelist = reverse("admin:notifications_webhookdelivery_changelist")
    assert staff_client.get(changelist).status_code == 200
    change = staff_client.get(reverse("admin:notifications_webhookdelivery_change", args=[delivery.pk]))
    assert change.status_code == 200
    assert b"attempt" in change.content.lower()
    assert staff_client.get(reverse("admin:notifications_webhookdelivery_add")).status_code == 403
    staff_client.post(changelist, {"action": "replay", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    webhook_delivery_attempt(delivery.pk)
    assert len(endpoint.received) == 4  # three events, one replayed
    assert staff_client.get(reverse("admin:notifications_pushnotification_changelist")).status_code == 200
    # the demo seeder is idempotent (manage.py seed_demo runs it on every start)
    seed_push(DemoContext(base_url="http://127.0.0.1:8000"))
    seed_push(DemoContext(base_url="http://127.0.0.1:8000"))
    assert Partner.objects.filter(code="fcm").count() == 1
    assert Partner.objects.get(code="fcm").provider_connections.count() == 1
    assert PushNotification.objects.count() == 0


def test_due_deliveries_are_found_by_the_safety_net(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    from notifications.webhooks import webhook_deliveries_due

    endpoint = endpoint_factory([200])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    pending = sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    assert sorted(webhook_deliveries_due()) == pending
    deliver_all()
    assert webhook_deliveries_due() == []


def test_one_transactions_webhooks_arrive_in_event_order(endpoint_factory, settings) -> None:  # type: ignore[no-untyped-def]
    webhook_policy(settings, first_delay=0)
    endpoint = endpoint_factory([500, 200])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    first, second, third = WebhookDelivery.objects.order_by("event_id")
    assert webhook_delivery_attempt(first.pk).status == "pending"  # 500: retried
    waiting = webhook_delivery_attempt(second.pk)
    assert (waiting.attempted, waiting.status, waiting.retry_in) == (False, "waiting_for_earlier", 1.0)
    assert webhook_delivery_attempt(third.pk, force=True).status == "waiting_for_earlier"
    assert len(endpoint.received) == 1  # the later events were not sent before the first
    assert webhook_delivery_attempt(first.pk).status == "delivered"
    assert webhook_delivery_attempt(second.pk, force=True).status == "delivered"
    assert webhook_delivery_attempt(third.pk, force=True).status == "delivered"
    assert [json.loads(hook.body)["type"] for hook in endpoint.received] == [
        "transaction.created",
        "transaction.created",
        "transaction.processing",
        "transaction.succeeded",
    ]
    second.refresh_from_db()
    assert second.attempts_count == 1  # a postponement is not an attempt
