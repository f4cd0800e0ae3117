"""Webhook URLs cannot reach inside the bank (issue 17, item 6; partners/webhooks.py).

Refused at save and at send for loopback, private, link-local, metadata and IPv6 forms of them,
a host *name* resolving to one included; at send the name is resolved once, every address
checked, and the connection made to the checked address, so a DNS answer changed between the
check and the connection (rebinding) cannot win; a redirect is never followed. The receivers are
real HTTP servers on loopback, which the suite allows for test-mode partners
(``WEBHOOK_ALLOW_LOOPBACK``, forced off in production): each test switches it off where a
refusal is the point."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from core.errors import ValidationFailed
from events.relay import relay_outbox_once
from notifications.models import WebhookAttempt, WebhookDelivery
from notifications.webhooks import webhook_delivery_attempt
from partners.models import ALL_SCOPES, Mode, Partner
from partners.services import partner_create
from tests.core.test_settings import production_env, run_manage
from tests.notifications.test_webhooks import deliver_all, endpoint_factory, make_partner, succeeded_cash_in

__all__ = ["endpoint_factory"]  # the receiver fixture, shared with the notifications tests

pytestmark = pytest.mark.django_db(transaction=True)

REBINDING_HOST = "hooks.rebinding.example"

INSIDE_URLS = [
    "https://localhost/h",  # a name resolving to loopback
    "https://[::ffff:127.0.0.1]/h",  # IPv6-mapped loopback
    "https://[::ffff:169.254.169.254]/h",  # IPv6-mapped metadata
    "https://[2002:7f00:1::1]/h",  # 6to4 carrying 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/h",  # NAT64 carrying 169.254.169.254
    "https://[fe80::1]/h",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.8/h",
    "https://[fd00:ec2::254]/h",
]


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("url", INSIDE_URLS)
def test_addresses_inside_are_refused_at_save(url: str) -> None:
    with pytest.raises(ValidationFailed):
        partner_create(name="Sneaky", mode=Mode.LIVE, scopes=ALL_SCOPES, webhook_url=url)
    assert not Partner.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]"])
def test_a_stored_url_reaching_loopback_is_refused_at_send(endpoint_factory, settings, host: str) -> None:  # type: ignore[no-untyped-def]
    """Stored while loopback was allowed; at send time it is not: nothing reaches the receiver."""
    endpoint = endpoint_factory([200])
    created = make_partner(endpoint.url)
    succeeded_cash_in(created.partner)
    Partner.objects.filter(pk=created.partner.pk).update(webhook_url=f"http://{host}:{endpoint.port}/hooks/addon")
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    relay_outbox_once()
    deliver_all()
    assert endpoint.received == []
    assert WebhookDelivery.objects.count() == 3
    assert set(WebhookAttempt.objects.values_list("outcome", flat=True)) == {"url_refused"}
    assert all("loopback" in error for error in WebhookAttempt.objects.values_list("error", flat=True))


@pytest.fixture
def rebinding_dns(monkeypatch) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The resolver (the system's, not our code) answers REBINDING_HOST with 127.0.0.1 the first
    time it is asked after ``state["armed"]``, and 127.0.0.2 (where nothing listens) every later
    time: a DNS rebinding between our check and our connection."""
    real = socket.getaddrinfo
    state: dict[str, Any] = {"armed": False, "asked": 0}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != REBINDING_HOST:
            return real(host, port, *args, **kwargs)
        if state["armed"]:
            state["asked"] += 1
        address = "127.0.0.1" if state["asked"] <= 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield state


def test_the_connection_goes_to_the_address_checked(endpoint_factory, rebinding_dns) -> None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_factory([200])
    created = make_partner(f"http://{REBINDING_HOST}:{endpoint.port}/hooks/addon")
    succeeded_cash_in(created.partner)
    relay_outbox_once()
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first is not None
    rebinding_dns["armed"] = True
    webhook_delivery_attempt(first.pk)
    assert rebinding_dns["asked"] == 1, "the host name is resolved once per attempt"
    assert [hook.headers["Host"] for hook in endpoint.received] == [f"{REBINDING_HOST}:{endpoint.port}"]
    assert WebhookAttempt.objects.get().outcome == "delivered"


class _Redirecting(BaseHTTPRequestHandler):
    target = ""
    hits: list[str] = []

    def do_POST(self) -> None:
        self.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def test_a_redirect_is_not_followed(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    inside = endpoint_factory([200])  # where the redirect points: must never be reached
    handler = type("Handler", (_Redirecting,), {"target": inside.url, "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        created = make_partner(f"http://127.0.0.1:{server.server_address[1]}/hooks/addon")
        succeeded_cash_in(created.partner)
        relay_outbox_once()
        deliver_all()
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.hits) == 3  # created, processing, succeeded: each POSTed once, none followed
    assert inside.received == []
    outcomes = set(WebhookAttempt.objects.values_list("outcome", "status_code"))
    assert outcomes == {("refused", 302)}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}


@pytest.mark.django_db(transaction=False)
def test_loopback_is_off_by_default_and_forced_off_in_production() -> None:
    code = "from django.conf import settings as s; print(s.WEBHOOK_ALLOW_LOOPBACK)"
    production = production_env(AUDIT_LOG_KEY="a" * 40)
    forced = run_manage({**production, "WEBHOOK_ALLOW_LOOPBACK": "true"}, "shell", "-c", code)
    default = run_manage(
        {**production, "DJANGO_ENV": "development", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"},
        "shell",
        "-c",
        code,
    )
    assert forced.returncode == 0 and default.returncode == 0, forced.stderr + default.stderr
    assert (forced.stdout.split()[-1], default.stdout.split()[-1]) == ("False", "False")
