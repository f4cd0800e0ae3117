"""Signing in to the console: lockout by user name, the client's address, the second factor, idle
sessions (docs/staff-security.md §2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.middleware import SEEN_KEY
from backoffice.models import AuditRecord
from backoffice.services import StaffUserCreated
from tests.backoffice.conftest import totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def sign_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_user_name_out(make_staff: Callable[..., StaffUserCreated]) -> None:
    staff = make_staff("operator", "awa")
    client = Client()
    for _ in range(4):
        assert sign_in(client, "awa", "wrong-password-1").status_code == 200  # the form again, with its error
    assert sign_in(client, "awa", "wrong-password-1").status_code == 429  # the fifth locks
    refused = sign_in(client, "awa", staff.password)
    assert refused.status_code == 429
    assert 'id="lockout-message"' in refused.content.decode()
    assert not is_signed_in(client)
    # from another address too: the lockout is by user name
    assert sign_in(Client(), "awa", staff.password, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert AuditRecord.objects.filter(action="auth.login_failed", target="user:awa").count() == 7
    assert AuditRecord.objects.filter(action="auth.locked_out", target="user:awa").exists()
    assert not AuditRecord.objects.filter(action="auth.login").exists()


def test_a_lockout_is_of_one_user_name_only(make_staff: Callable[..., StaffUserCreated]) -> None:
    make_staff("operator", "awa")
    other = make_staff("operator", "bob")
    client = Client()
    for _ in range(5):
        sign_in(client, "awa", "wrong-password-1")
    assert sign_in(client, "bob", other.password).status_code == 302
    assert is_signed_in(client)


def test_four_wrong_passwords_do_not_lock(make_staff: Callable[..., StaffUserCreated]) -> None:
    staff = make_staff("operator", "awa")
    client = Client()
    for _ in range(4):
        sign_in(client, "awa", "wrong-password-1")
    assert sign_in(client, "awa", staff.password).status_code == 302
    assert is_signed_in(client)
    assert not AccessAttempt.objects.filter(username="awa").exists()  # reset on success


def test_the_client_address_is_the_peer_unless_a_proxy_is_trusted(
    make_staff: Callable[..., StaffUserCreated], settings: Any
) -> None:
    make_staff("operator", "awa")
    forged = {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "203.0.113.99"}
    sign_in(Client(), "awa", "wrong-password-1", **forged)
    assert AccessAttempt.objects.get(username="awa").ip_address == "192.0.2.10"
    assert AuditRecord.objects.get(action="auth.login_failed").ip_address == "192.0.2.10"

    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    # our proxy (10.0.0.2) appended the address it saw; the entry before it is the client's to forge
    via_proxy = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.99"}
    sign_in(Client(), "awa", "wrong-password-1", **via_proxy)
    assert AuditRecord.objects.filter(action="auth.login_failed").order_by("-seq")[0].ip_address == "203.0.113.99"
    assert AccessAttempt.objects.filter(username="awa", ip_address="203.0.113.99").exists()


def test_a_supervisor_enrols_a_device_then_reaches_the_console(signed_in: Callable[[str], Client]) -> None:
    client = signed_in("supervisor")
    response = client.get("/admin/partners/partner/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/otp/enrol/?next=%2Fadmin%2Fpartners%2Fpartner%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode() and 'src="http' not in page.content.decode()
    device = TOTPDevice.objects.get(user__username="supervisor-user", confirmed=False)

    wrong = client.post(response["Location"], {"token": f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["token"]
    assert client.get("/admin/").status_code == 302
    # django-otp throttles a device after a wrong code: even the right one waits (1 s, doubling)
    assert client.post(response["Location"], {"token": totp_code(device)}).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # as when the wait has passed

    done = client.post(response["Location"], {"token": totp_code(device)})
    assert done.status_code == 302 and done["Location"] == "/admin/partners/partner/"
    assert client.get("/admin/partners/partner/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    actions = list(AuditRecord.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["otp.failed", "otp.enrolled"]


def test_a_supervisor_with_a_device_gives_a_code_at_each_sign_in(
    make_staff: Callable[..., StaffUserCreated],
) -> None:
    staff = make_staff("supervisor", "sup")
    device = TOTPDevice.objects.create(user=staff.user, name="console", confirmed=True)
    client = Client()
    assert sign_in(client, "sup", staff.password)["Location"] == "/admin/"
    response = client.get("/admin/")
    assert response["Location"] == "/admin/otp/verify/?next=%2Fadmin%2F"
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    assert client.post(response["Location"], {"token": wrong}).status_code == 200
    assert client.get("/admin/").status_code == 302
    device.refresh_from_db()
    device.throttle_reset()  # as when django-otp's wait after a wrong code has passed
    assert client.post(response["Location"], {"token": totp_code(device)})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuditRecord.objects.filter(action="otp.verified", target="user:sup").count() == 1


def test_an_operator_is_asked_for_a_code_only_with_the_production_switch(
    signed_in: Callable[[str], Client], settings: Any
) -> None:
    client = signed_in("operator")
    assert client.get("/admin/").status_code == 200
    settings.STAFF_OTP_FOR_ALL = True
    assert client.get("/admin/")["Location"] == "/admin/otp/enrol/?next=%2Fadmin%2F"


def test_a_superuser_without_a_role_is_not_asked_outside_production(staff_client: Client) -> None:
    assert staff_client.get("/admin/").status_code == 200


def test_an_idle_session_is_signed_out(signed_in: Callable[[str], Client]) -> None:
    client = signed_in("operator")
    assert client.get("/admin/").status_code == 200
    session = client.session
    session[SEEN_KEY] -= 31 * 60
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not is_signed_in(client)
    assert AuditRecord.objects.filter(action="auth.logout", target="user:operator-user").exists()
