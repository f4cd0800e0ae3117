"""Partner webhook URLs: no private, loopback, link-local, metadata or reserved targets."""

from __future__ import annotations

import pytest
from django.test import override_settings

from core.errors import ValidationFailed
from partners.models import Mode, Partner
from partners.services import api_credential_issue, partner_update
from partners.webhooks import WebhookUrlRefused, validate_webhook_url

PUBLIC = "https://93.184.215.14/hooks/addon"  # a global unicast address: no DNS needed


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.0.0.1/hook", "private"),
        ("https://192.168.1.20:8443/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://100.64.0.1/hook", "reserved"),
        ("https://0.0.0.0/hook", "reserved"),
        ("https://localhost/hook", "loopback"),  # a name that resolves to loopback
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
        ("http://93.184.215.14/hook", "https"),  # plain http in live mode
        ("https://user:pw@93.184.215.14/hook", "credentials"),
        ("ftp://93.184.215.14/hook", "https"),
        ("https:///hook", "no host"),
    ],
)
def test_live_refusals(url: str, reason: str) -> None:
    with pytest.raises(WebhookUrlRefused, match=reason) as caught:
        validate_webhook_url(url, Mode.LIVE)
    assert caught.value.status == 400
    assert [e.field for e in caught.value.errors] == ["webhook_url"]


@pytest.mark.parametrize(
    "url", ["https://10.0.0.1/h", "https://169.254.169.254/", "http://192.168.0.1/h", "https://[fd00:ec2::254]/"]
)
def test_test_mode_still_refuses_private_and_metadata(url: str) -> None:
    with pytest.raises(WebhookUrlRefused):
        validate_webhook_url(url, Mode.TEST)


def test_public_https_is_accepted() -> None:
    assert validate_webhook_url(PUBLIC, Mode.LIVE) == PUBLIC


def test_http_is_accepted_in_test_mode_only() -> None:
    assert validate_webhook_url("http://93.184.215.14/h", Mode.TEST) == "http://93.184.215.14/h"


@override_settings(SANDBOX_ENABLED=True)
@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://localhost:9000/hook", "http://[::1]:80/"])
def test_loopback_for_test_mode_while_the_sandbox_is_on(url: str) -> None:
    assert validate_webhook_url(url, Mode.TEST) == url
    with pytest.raises(WebhookUrlRefused, match="loopback"):
        validate_webhook_url(url.replace("http://", "https://"), Mode.LIVE)


@override_settings(SANDBOX_ENABLED=False)
def test_no_loopback_when_the_sandbox_is_off() -> None:
    with pytest.raises(WebhookUrlRefused, match="loopback"):
        validate_webhook_url("http://127.0.0.1:8000/hook", Mode.TEST)


def test_allowlisted_host_is_exempt() -> None:
    url = "https://hooks.bank.internal/addon"
    with pytest.raises(WebhookUrlRefused):
        validate_webhook_url(url, Mode.LIVE)
    with override_settings(WEBHOOK_ALLOWED_HOSTS=["hooks.bank.internal"]):
        assert validate_webhook_url(url, Mode.LIVE) == url
    with override_settings(WEBHOOK_ALLOWED_HOSTS=["HOOKS.bank.internal"]):
        assert validate_webhook_url("https://hooks.BANK.internal/addon", Mode.LIVE)


@pytest.mark.django_db
def test_partner_create_refuses_a_bad_webhook_and_creates_nothing(make_partner) -> None:
    with pytest.raises(ValidationFailed, match="private"):
        make_partner(name="Sneaky", mode=Mode.LIVE, webhook_url="https://10.1.2.3/h")
    assert not Partner.objects.filter(name="Sneaky").exists()


@pytest.mark.django_db
@override_settings(SANDBOX_ENABLED=True)
def test_webhook_changes_are_validated_against_the_partners_strictest_mode(make_partner) -> None:
    created = make_partner(mode=Mode.TEST, webhook_url="http://127.0.0.1:8000/hook")  # fine for test mode
    partner = created.partner
    # a live key would let this loopback URL serve live traffic: refused while it is set
    with pytest.raises(WebhookUrlRefused):
        api_credential_issue(partner=partner, mode=Mode.LIVE)
    partner_update(partner=partner, webhook_url=PUBLIC)
    api_credential_issue(partner=partner, mode=Mode.LIVE)
    with pytest.raises(WebhookUrlRefused):
        partner_update(partner=partner, webhook_url="http://127.0.0.1:8000/hook")
    partner.refresh_from_db()
    assert partner.webhook_url == PUBLIC
