"""Onboarding in the console (partners/admin.py, partners/views.py): a partner created, its test
credentials shown once and working against the live server, provider credentials write-only,
"test connection" answering with the provider's balance and the latency, live changes sent to
four-eyes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clients.python.addon_partner_client import AddonPartnerClient
from core.signing import sign_request
from ledger.models import ProviderCall
from partners.models import ApiCredential, Partner, PartnerLimit, ProviderConnection, SigningSecret
from sandbox.wave.accounts import wave_account_register, wave_connector_credentials

pytestmark = pytest.mark.django_db(transaction=True)


def create_partner(client, **extra):  # type: ignore[no-untyped-def]
    data = {
        "name": "Teranga Pay",
        "code": "teranga-pay",
        "contact_name": "Fatou Sow",
        "contact_email": "fatou@teranga.example.sn",
        "contact_phone": "+221770000001",
        "webhook_url": "",
        "scopes": ["transactions.read", "balances.read"],
        "ip_allowlist": "",
        "rate_limit_per_minute": "600",
        **extra,
    }
    return client.post(reverse("admin:partners_partner_add"), data)


def issue(client, partner: Partner, mode: str = "test", op: str = "issue"):  # type: ignore[no-untyped-def]
    url = reverse("admin:partners_partner_credentials", args=[partner.pk])
    page = client.get(url).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    assert nonce, page
    data = {"mode": mode, "nonce": nonce.group(1), "op": op}
    return client.post(url, data), data


def field(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" type="text" readonly size="70" value="([^"]+)"', html)
    assert found, element_id
    return found.group(1)


def test_a_partner_is_created_and_its_test_credentials_are_shown_once_and_work(staff_client, live_server) -> None:  # type: ignore[no-untyped-def]
    answer = create_partner(staff_client)
    partner = Partner.objects.get(code="teranga-pay")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/partners/partner/{partner.pk}/credentials/")
    assert (partner.contact_name, partner.scopes) == ("Fatou Sow", ["balances.read", "transactions.read"])

    issued, sent = issue(staff_client, partner)
    html = issued.content.decode()
    api_key, secret = field(html, "issued-api-key"), field(html, "issued-signing-secret")
    assert api_key.startswith("ak_test_") and secret.startswith("ss_test_")
    assert "no-store" in issued["Cache-Control"]
    t, v1 = re.search(r"X-Signature: t=(\d+),v1=([0-9a-f]{64})", html).groups()  # type: ignore[union-attr]
    assert v1 == sign_request(secret, int(t), "GET", "/api/v1/me", b"")  # the example is right

    again = staff_client.post(reverse("admin:partners_partner_credentials", args=[partner.pk]), sent)  # a reload
    assert again.status_code == 302 and ApiCredential.objects.filter(partner=partner).count() == 1
    later = staff_client.get(reverse("admin:partners_partner_credentials", args=[partner.pk])).content.decode()
    session = staff_client.session
    for shown_again in (later, again.content.decode(), str(dict(session.items()))):
        assert api_key not in shown_again and secret not in shown_again
    assert ApiCredential.objects.get(partner=partner).key_hash != api_key  # only its hash is stored

    status, _, me = AddonPartnerClient(live_server.url, api_key, secret).get("/api/v1/me")
    assert status == 200 and (me["partner_id"], me["mode"]) == (partner.public_id, "test")


def test_a_private_webhook_address_is_refused_and_nothing_is_created(staff_client) -> None:  # type: ignore[no-untyped-def]
    answer = create_partner(staff_client, webhook_url="https://10.0.0.5/hooks")
    assert answer.status_code == 200 and "webhook_url" in answer.context["adminform"].form.errors
    assert not Partner.objects.exists()


def test_test_mode_rotation_applies_at_once_and_live_changes_go_to_four_eyes(staff_client) -> None:  # type: ignore[no-untyped-def]
    create_partner(staff_client)
    partner = Partner.objects.get(code="teranga-pay")
    issue(staff_client, partner)
    rotated, _ = issue(staff_client, partner, op="rotate")
    assert field(rotated.content.decode(), "issued-signing-secret").startswith("ss_test_")
    assert SigningSecret.objects.filter(partner=partner, status="active").count() == 2
    issue(staff_client, partner, op="finish")
    assert SigningSecret.objects.filter(partner=partner, status="active").count() == 1

    live, _ = issue(staff_client, partner, mode="live", op="rotate")
    query = parse_qs(urlsplit(live["Location"]).query)
    assert live["Location"].startswith(reverse("admin:approvals_approvalrequest_add"))
    assert (query["action"], query["target"], query["step"]) == (["rotate_secret"], ["teranga-pay"], ["rotate"])

    limits = reverse("admin:partners_partner_limits", args=[partner.pk])
    row = {"rail": "mobile_money", "currency": "XOF", "max_per_transaction": "50000", "max_per_day": ""}
    assert staff_client.post(limits, {**row, "mode": "test"}).status_code == 302
    assert PartnerLimit.objects.get().max_per_transaction_minor == 50_000
    to_four_eyes = staff_client.post(limits, {**row, "mode": "live", "max_per_transaction": "9"})
    assert parse_qs(urlsplit(to_four_eyes["Location"]).query)["action"] == ["partner_limits"]
    assert PartnerLimit.objects.count() == 1  # the live limit waits for a second person


def test_suspend_and_reactivate(staff_client) -> None:  # type: ignore[no-untyped-def]
    create_partner(staff_client)
    partner = Partner.objects.get(code="teranga-pay")
    changelist = reverse("admin:partners_partner_changelist")
    for action, status in (("suspend", "suspended"), ("reactivate", "active")):
        staff_client.post(changelist, {"action": action, "_selected_action": [partner.pk]})
        partner.refresh_from_db()
        assert partner.status == status


def test_provider_credentials_are_write_only_and_test_connection_answers(staff_client, live_server) -> None:  # type: ignore[no-untyped-def]
    account = wave_account_register(callback_url=f"{live_server.url}/callbacks/wave")
    credentials = wave_connector_credentials(account)
    secret_value = str(sorted(credentials.values(), key=len)[-1])
    wave = Partner.objects.create(name="Wave", code="wave")
    form = {
        "partner": wave.pk,
        "mode": "test",
        "connector": "wave",
        "base_url": f"{live_server.url}/sandbox/wave/",
        "credentials_json": __import__("json").dumps(credentials),
        "connect_timeout_seconds": "2",
        "read_timeout_seconds": "2",
        "limits": "{}",
        "is_enabled": "on",
    }
    assert staff_client.post(reverse("admin:partners_providerconnection_add"), form).status_code == 302
    connection = ProviderConnection.objects.get(connector="wave")
    assert connection.credentials == credentials
    page = staff_client.get(reverse("admin:partners_providerconnection_change", args=[connection.pk]))
    html = page.content.decode()
    assert "•••• set" in html and secret_value not in html

    # saved again with the credentials left empty: kept as they were
    staff_client.post(
        reverse("admin:partners_providerconnection_change", args=[connection.pk]), {**form, "credentials_json": ""}
    )
    assert ProviderConnection.objects.get(pk=connection.pk).credentials == credentials

    answer = staff_client.post(
        reverse("admin:partners_providerconnection_changelist"),
        {"action": "test_connection", "_selected_action": [connection.pk]},
        follow=True,
    )
    shown = [str(message) for message in get_messages(answer.wsgi_request)] or [answer.content.decode()]
    assert any(re.search(r"balance [0-9.]+ XOF \(\d+ ms\)", text) for text in shown), shown
    assert ProviderCall.objects.filter(provider="wave").count() >= 1  # recorded like any provider call
