"""Raw payloads at rest (issue 17, item 5; core/raw_payloads.py): a stored callback keeps no
credential header in clear (the signature is still checked, on the headers as received), and
raw bodies are erased after ``RAW_PAYLOAD_RETENTION_DAYS`` by the hourly beat task, except rows
still being worked on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from banking.models import BankCallback
from banking.services.callbacks import callback_receive as bank_callback_receive
from config.celery import app
from core.raw_payloads import raw_payloads_purge
from events.relay import relay_outbox_once
from mobilemoney.models import CheckoutSession, InboundCallback
from notifications.models import WebhookAttempt, WebhookDelivery
from notifications.webhooks import webhook_delivery_attempt
from tests.mobilemoney.test_api_checkout_and_callbacks import (
    accounts,
    create_session,
    send_wave,
    side,
    wave_event,
)
from tests.notifications.test_webhooks import endpoint_factory, make_partner, succeeded_cash_in

__all__ = ["accounts", "endpoint_factory", "side"]  # fixtures shared with the rails' tests

pytestmark = pytest.mark.django_db(transaction=True)


def stored_text(headers: dict[str, str]) -> str:
    return json.dumps(headers)


def test_a_verified_wave_callback_is_stored_without_its_credentials_in_clear(side, live_server, accounts) -> None:  # type: ignore[no-untyped-def]
    session = CheckoutSession.objects.get(public_id=create_session(side, "wave")["id"])
    secret = accounts["wave"].webhook_secret
    payload = wave_event(session, "checkout.session.completed", "EV_redacted")
    assert send_wave(live_server, accounts, payload) == 200  # verified on the original header
    delivery = InboundCallback.objects.get(delivery__isnull=True)
    assert delivery.status == "verified"
    signature = next(v for k, v in delivery.headers.items() if k.lower() == "wave-signature")
    assert signature.startswith("[REDACTED sha256:")
    assert "v1=" not in stored_text(delivery.headers) and secret not in stored_text(delivery.headers)
    assert delivery.headers.get("Content-Type") == "application/json"  # the rest is kept as received


def test_a_bank_callback_is_stored_with_its_signature_redacted() -> None:
    forged = "t=1700000000,v1=" + "ab" * 32
    row, status = bank_callback_receive(
        raw=b"<Document/>", headers={"X-Bank-Signature": forged, "Authorization": "Bearer bank-token-h4b"}
    )
    assert status == 401
    row.refresh_from_db()
    assert forged not in stored_text(row.headers) and "bank-token-h4b" not in stored_text(row.headers)
    assert row.headers["X-Bank-Signature"].startswith("[REDACTED sha256:")
    assert BankCallback.objects.count() == 1


def _age(model: type, days: float, field: str, **filters: object) -> None:
    model._default_manager.filter(**filters).update(**{field: timezone.now() - timedelta(days=days)})  # type: ignore[attr-defined]


def test_raw_payloads_are_erased_after_the_retention_unless_still_in_work(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    old = settings.RAW_PAYLOAD_RETENTION_DAYS + 1
    # callbacks: one handled long ago, one long ago but never handled, one recent
    rows = [
        InboundCallback.objects.create(provider="wave", raw_body=raw, headers={"A": "b"}, status=status)
        for raw, status in ((b'{"old":"handled"}', "applied"), (b'{"old":"waiting"}', "received"), (b"{}", "applied"))
    ]
    _age(InboundCallback, old, "received_at", pk__in=[rows[0].pk, rows[1].pk])
    BankCallback.objects.create(provider="partner_bank", body=b"<old/>", headers={"A": "b"}, status="applied")
    _age(BankCallback, old, "received_at")
    # webhooks: the first delivered long ago, the two others still pending
    endpoint = endpoint_factory([200])
    succeeded_cash_in(make_partner(endpoint.url).partner)
    relay_outbox_once()
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first is not None and webhook_delivery_attempt(first.pk).status == "delivered"
    _age(WebhookDelivery, old, "created_at")
    _age(WebhookAttempt, old, "started_at")

    erased = raw_payloads_purge()

    assert erased == {
        "mobilemoney.InboundCallback": 1,
        "banking.BankCallback": 1,
        "notifications.WebhookDelivery": 1,
        "notifications.WebhookAttempt": 1,
    }
    kept = {bytes(r.raw_body): r.headers for r in InboundCallback.objects.all()}
    assert kept == {b"": {}, b'{"old":"waiting"}': {"A": "b"}, b"{}": {"A": "b"}}
    assert (bytes(BankCallback.objects.get().body), BankCallback.objects.get().headers) == (b"", {})
    bodies = dict(WebhookDelivery.objects.values_list("pk", "body"))
    assert bytes(bodies.pop(first.pk)) == b"" and all(bytes(body) for body in bodies.values())
    assert WebhookAttempt.objects.get().response_excerpt == ""
    assert set(raw_payloads_purge().values()) == {0}  # nothing twice


def test_the_purge_is_a_scheduled_task() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE["core-purge-raw-payloads"]
    assert schedule["task"] == "core.purge_raw_payloads" and schedule["schedule"] <= 3600
    app.loader.import_default_modules()
    assert "core.purge_raw_payloads" in app.tasks
