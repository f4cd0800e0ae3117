"""Fixtures of the console's tests: staff in their roles, a partner's webhook endpoint, the data."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from tests.admin.builders import ConsoleData, build_console_data


class _Receiver(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        self.server.received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def endpoint() -> Iterator[ThreadingHTTPServer]:
    """A partner's webhook endpoint on loopback (allowed for test-mode partners, partners/webhooks.py)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def endpoint_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/hooks"


@pytest.fixture
def console_data(db: None, endpoint: ThreadingHTTPServer) -> ConsoleData:
    return build_console_data(endpoint_url(endpoint))


def make_staff(django_user_model, username: str, role: str, *, personal_data: bool):  # type: ignore[no-untyped-def]
    """A staff member of ``role``: its group when the roles migration made it, else the role's
    permissions given one by one (view everything, make requests, personal data or not)."""
    user = django_user_model.objects.create_user(username=username, password="a-long-staff-password-1", is_staff=True)
    group = Group.objects.filter(name=role).first()
    if group is not None:
        user.groups.add(group)
    else:
        perms = Permission.objects.filter(codename__startswith="view_").exclude(codename="view_personal_data")
        user.user_permissions.add(*perms, *Permission.objects.filter(codename="make_request"))
        if personal_data:
            user.user_permissions.add(*Permission.objects.filter(codename="view_personal_data"))
    return django_user_model.objects.get(pk=user.pk)  # permission caches fresh


@pytest.fixture
def operator(django_user_model):  # type: ignore[no-untyped-def]
    return make_staff(django_user_model, "operator-1", "operator", personal_data=False)


@pytest.fixture
def supervisor(django_user_model):  # type: ignore[no-untyped-def]
    return make_staff(django_user_model, "supervisor-1", "supervisor", personal_data=True)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    """A signed-in client; for a role that needs a second factor, one given this session
    (a confirmed TOTP device verified, as django-otp records it after a good code)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from backoffice.middleware import otp_required

    client = Client()
    client.force_login(user)
    if otp_required(user):
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
