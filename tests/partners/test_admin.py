"""The admin lists partners, keys, secrets and connections, never showing a secret."""

from __future__ import annotations

import pytest

from partners.models import ApiCredential, Mode, ProviderConnection, SigningSecret
from partners.registry import register, unregister
from partners.services import provider_connection_upsert

pytestmark = pytest.mark.django_db

PROVIDER_SECRET = "prov-secret-for-admin-5a7d"


@pytest.fixture
def onboarded(make_partner):  # type: ignore[no-untyped-def]
    register("admin_dummy")(type("AdminDummy", (), {"__init__": lambda self, settings: None}))
    created = make_partner(name="Admin Visible", scopes=["bills.pay"])
    provider_connection_upsert(
        partner=created.partner, mode=Mode.TEST, connector="admin_dummy", base_url="https://p.example",
        credentials={"secret": PROVIDER_SECRET},
    )  # fmt: skip
    yield created
    unregister("admin_dummy")


@pytest.mark.parametrize("model", ["partner", "apicredential", "signingsecret", "providerconnection"])
def test_lists_and_pages_show_no_secret(staff_client, onboarded, model: str) -> None:  # type: ignore[no-untyped-def]
    listing = staff_client.get(f"/admin/partners/{model}/")
    assert listing.status_code == 200
    row = {
        "partner": onboarded.partner,
        "apicredential": ApiCredential.objects.get(),
        "signingsecret": SigningSecret.objects.get(),
        "providerconnection": ProviderConnection.objects.get(),
    }[model]
    page = staff_client.get(f"/admin/partners/{model}/{row.pk}/change/")
    assert page.status_code == 200
    for content in (listing.content.decode(), page.content.decode()):
        assert onboarded.api_key not in content
        assert onboarded.signing_secret not in content
        assert PROVIDER_SECRET not in content
        assert ApiCredential.objects.get().key_hash not in content
        assert "gAAAAA" not in content  # not even the ciphertext
    if model == "partner":
        assert "Admin Visible" in listing.content.decode()


@pytest.mark.parametrize("model", ["apicredential", "signingsecret"])
def test_keys_and_secrets_are_never_added_or_edited_as_rows(staff_client, onboarded, model: str) -> None:  # type: ignore[no-untyped-def]
    """They are issued by the onboarding pages (tests/partners/test_onboarding.py), shown once."""
    assert staff_client.get(f"/admin/partners/{model}/add/").status_code == 403
