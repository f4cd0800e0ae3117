"""Onboarding in a real browser: a staff member signs in, creates a partner, issues its test
credentials and sees them once (a reload shows nothing), and those credentials call GET /api/v1/me."""

from __future__ import annotations

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from partners.models import Partner
from tests.browser.conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True)


def test_onboarding_shows_the_credentials_once_and_they_work(page, live_server, django_user_model) -> None:  # type: ignore[no-untyped-def]
    django_user_model.objects.create_superuser(username="awa", password="a-long-enough-password-1")
    admin_login(page, "awa", "a-long-enough-password-1")
    page.goto("/admin/partners/partner/add/")
    page.fill("#id_name", "Teranga Pay")
    page.fill("#id_code", "teranga-pay")
    page.fill("#id_contact_email", "fatou@teranga.example.sn")
    page.check("input[name=scopes][value='transactions.read']")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert page.url.endswith("/credentials/")

    page.select_option("#id_mode", "test")
    with page.expect_navigation():
        page.click("#issue-credentials")
    api_key = page.input_value("#issued-api-key")
    secret = page.input_value("#issued-signing-secret")
    assert api_key.startswith("ak_test_") and secret.startswith("ss_test_")
    assert "X-Signature: t=" in page.inner_text("#signing-example-header")

    page.reload()  # the same POST again: its one-time nonce is spent
    content = page.content()
    assert api_key not in content and secret not in content
    page.goto(page.url)
    assert api_key not in page.content() and secret not in page.content()

    partner = Partner.objects.get(code="teranga-pay")
    status, _, me = AddonPartnerClient(live_server.url, api_key, secret).get("/api/v1/me")
    assert status == 200 and me["partner_id"] == partner.public_id
