"""Partner services: onboarding, keys, signing secret rotation, provider connections, registry."""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError, transaction

from core.errors import Conflict, ValidationFailed
from core.http import Timeouts
from partners.models import ALL_SCOPES, ApiCredential, Mode, ProviderConnection, SigningSecret
from partners.registry import (
    ConnectorSettings,
    ConnectorUnavailable,
    UnknownConnector,
    build_connector,
    get_connector_class,
    register,
    unregister,
)
from partners.selectors import api_credential_get_by_key, provider_connection_for_provider, signing_secret_list_active
from partners.services import (
    api_credential_issue,
    api_credential_revoke,
    partner_code_from_name,
    provider_connection_upsert,
    signing_secret_rotate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dummy_connector():  # type: ignore[no-untyped-def]
    @register("svc_dummy")
    class DummyConnector:
        def __init__(self, settings: ConnectorSettings) -> None:
            self.settings = settings

    yield DummyConnector
    unregister("svc_dummy")


def test_partner_create_returns_clear_credentials_once_and_stores_only_hashes(make_partner) -> None:
    created = make_partner(name="Orange Money SN", scopes=["bills.pay", "transactions.read", "bills.pay"])
    partner = created.partner
    assert partner.code == "orange-money-sn"
    assert partner.public_id.startswith("ptn_")
    assert partner.scopes == ["bills.pay", "transactions.read"]
    assert created.api_key.startswith("ak_test_") and len(created.api_key) == 8 + 43
    assert created.signing_secret.startswith("ss_test_")
    credential = ApiCredential.objects.get(partner=partner)
    assert credential.key_hash == hashlib.sha256(created.api_key.encode()).hexdigest()
    assert credential.key_prefix == created.api_key[:12]
    assert api_credential_get_by_key(api_key=created.api_key) == credential
    assert [s.secret for s in signing_secret_list_active(partner=partner, mode=Mode.TEST)] == [created.signing_secret]
    assert created.api_key not in repr(created) and created.signing_secret not in repr(created)


def test_codes_are_unique_and_derived_from_the_name(make_partner) -> None:
    make_partner(name="Wave Sénégal")
    assert partner_code_from_name("Wave Sénégal") == "wave-senegal-2"
    assert make_partner(name="Wave Sénégal").partner.code == "wave-senegal-2"
    with pytest.raises(Conflict):
        make_partner(name="Another", code="wave-senegal")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": ["bills.pay", "root"]}, "scopes"),
        ({"mode": "prod"}, "mode"),
        ({"ip_allowlist": ["10.0.0.0/33"]}, "ip_allowlist"),
        ({"name": "  "}, "name"),
    ],
)
def test_partner_create_validates(make_partner, kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationFailed) as caught:
        make_partner(**kwargs)
    assert [e.field for e in caught.value.errors] == [field]


def test_revoke_is_idempotent(make_partner) -> None:
    created = make_partner()
    first = api_credential_revoke(credential=created.credential).revoked_at
    assert first is not None
    assert api_credential_revoke(credential=created.credential).revoked_at == first


def test_key_mode_and_prefix_must_agree_in_the_database(make_partner) -> None:
    created = make_partner()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiCredential.objects.create(
            partner=created.partner, mode=Mode.LIVE, key_prefix="ak_test_abcd", key_hash="0" * 64
        )


def test_rotation_keeps_at_most_two_active_secrets(make_partner) -> None:
    created = make_partner()
    partner = created.partner
    second = signing_secret_rotate(partner=partner, mode=Mode.TEST)
    active = [s.secret for s in signing_secret_list_active(partner=partner, mode=Mode.TEST)]
    assert active == [second.secret, created.signing_secret]  # both active during the rotation

    third = signing_secret_rotate(partner=partner, mode=Mode.TEST)
    active = [s.secret for s in signing_secret_list_active(partner=partner, mode=Mode.TEST)]
    assert active == [third.secret, second.secret]  # the oldest was revoked
    oldest = SigningSecret.objects.get(status=SigningSecret.Status.REVOKED)
    assert oldest.secret == created.signing_secret and oldest.revoked_at is not None and oldest.slot is None
    # live secrets are counted separately
    signing_secret_rotate(partner=partner, mode=Mode.LIVE)
    assert signing_secret_list_active(partner=partner, mode=Mode.TEST).count() == 2


def test_the_database_refuses_a_third_active_secret(make_partner) -> None:
    created = make_partner()
    signing_secret_rotate(partner=created.partner, mode=Mode.TEST)
    for slot in (1, 2, 3, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            SigningSecret.objects.create(partner=created.partner, mode=Mode.TEST, secret="x", slot=slot)


def test_issue_a_second_key(make_partner) -> None:
    created = make_partner()
    issued = api_credential_issue(partner=created.partner, mode=Mode.LIVE, label="prod servers")
    assert issued.api_key.startswith("ak_live_")
    assert api_credential_get_by_key(api_key=issued.api_key).mode == "live"


def test_provider_connection_upsert_updates_in_place(make_partner, dummy_connector) -> None:
    provider = make_partner(name="Wave", scopes=[]).partner
    first = provider_connection_upsert(
        partner=provider, mode=Mode.TEST, connector="svc_dummy", base_url="http://127.0.0.1:8000/sandbox/wave/",
        credentials={"api_key": "wave_sn_prod_x"}, connect_timeout_seconds=2, read_timeout_seconds=10,
        limits={"max_amount_minor": 1_000_000},
    )  # fmt: skip
    second = provider_connection_upsert(
        partner=provider, mode=Mode.TEST, connector="svc_dummy", base_url="https://api.wave.example/", is_enabled=False
    )
    assert second.pk == first.pk and ProviderConnection.objects.count() == 1
    row = ProviderConnection.objects.get()
    assert (row.base_url, row.is_enabled, row.connect_timeout_seconds) == ("https://api.wave.example/", False, 2.0)
    assert row.credentials == {"api_key": "wave_sn_prod_x"}  # kept when not given
    assert row.public_id.startswith("pcn_")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"connector": "nope"}, "connector"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"read_timeout_seconds": 0}, "timeouts"),
    ],
)
def test_provider_connection_validation(make_partner, dummy_connector, kwargs, field) -> None:  # type: ignore[no-untyped-def]
    provider = make_partner(scopes=[]).partner
    values = {"connector": "svc_dummy", "base_url": "https://x.example", **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        provider_connection_upsert(partner=provider, mode=Mode.TEST, **values)
    assert [e.field for e in caught.value.errors] == [field]


def test_the_database_keeps_one_connection_per_partner_mode_connector(make_partner) -> None:
    provider = make_partner(scopes=[]).partner
    ProviderConnection.objects.create(partner=provider, mode=Mode.TEST, connector="c", base_url="https://x")
    ProviderConnection.objects.create(partner=provider, mode=Mode.LIVE, connector="c", base_url="https://x")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderConnection.objects.create(partner=provider, mode=Mode.TEST, connector="c", base_url="https://y")


def test_build_connector_through_the_registry(make_partner, dummy_connector) -> None:
    provider = make_partner(name="Wave", scopes=[]).partner
    connection = provider_connection_upsert(
        partner=provider, mode=Mode.TEST, connector="svc_dummy", base_url="https://sandbox.example/wave/",
        credentials={"api_key": "k"}, connect_timeout_seconds=2, read_timeout_seconds=1.5, limits={"per_day": 5},
    )  # fmt: skip
    found = provider_connection_for_provider(provider_code="wave", mode=Mode.TEST)
    connector = build_connector(found)
    assert isinstance(connector, dummy_connector)
    assert connector.settings == ConnectorSettings(
        connection_id=connection.public_id, connector="svc_dummy", provider_code="wave", mode="test",
        base_url="https://sandbox.example/wave/", credentials={"api_key": "k"},
        timeouts=Timeouts(connect=2, read=1.5), limits={"per_day": 5},
    )  # fmt: skip
    assert "'k'" not in repr(connector.settings)  # credentials stay out of reprs (and logs)
    with pytest.raises(TypeError):
        connector.settings.credentials["api_key"] = "changed"  # type: ignore[index]

    provider_connection_upsert(
        partner=provider, mode=Mode.TEST, connector="svc_dummy", base_url=connection.base_url, is_enabled=False
    )
    connection.refresh_from_db()
    with pytest.raises(ConnectorUnavailable) as caught:
        build_connector(connection)
    assert (caught.value.status, caught.value.code) == (503, "provider_not_configured")


def test_registry_names() -> None:
    with pytest.raises(UnknownConnector):
        get_connector_class("never-registered")

    @register("reg_a")
    class A:
        pass

    try:
        assert get_connector_class("reg_a") is A
        register("reg_a")(A)  # the same class again: fine

        class B:
            pass

        with pytest.raises(ValueError, match="already registered"):
            register("reg_a")(B)
    finally:
        unregister("reg_a")


def test_all_scopes_are_the_documented_ones() -> None:
    assert set(ALL_SCOPES) == {
        "transactions.read", "balances.read", "bills.pay", "mobile_money.cash_in", "mobile_money.checkout",
        "banking.transfers", "notifications.push", "events.publish",
    }  # fmt: skip
