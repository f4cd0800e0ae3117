"""Secrets at rest: nothing in clear in the database, and the encryption key can be rotated."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from core.crypto import DecryptionError, decrypt_str, encrypt_str, is_encrypted_with_primary, reencrypt
from partners.models import Mode, ProviderConnection, SigningSecret
from partners.registry import register, unregister
from partners.services import provider_connection_upsert, reencrypt_all, signing_secret_rotate

pytestmark = pytest.mark.django_db

KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()
PROVIDER_SECRET = "prov-client-secret-7c1e9a"


@pytest.fixture(autouse=True)
def dummy_connector():  # type: ignore[no-untyped-def]
    @register("crypto_dummy")
    class Dummy:
        def __init__(self, settings):  # type: ignore[no-untyped-def]
            self.settings = settings

    yield
    unregister("crypto_dummy")


def raw_rows(table: str) -> list[tuple]:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - fixed table names
        return cursor.fetchall()


def raw_column(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" ORDER BY id')  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_encrypt_decrypt_round_trip_and_tokens_differ() -> None:
    first, second = encrypt_str("sécret"), encrypt_str("sécret")
    assert first != second and first.startswith("gAAAAA")
    assert decrypt_str(first) == decrypt_str(second) == "sécret"
    with pytest.raises(DecryptionError):
        decrypt_str(first[:-4] + "AAAA")


def test_no_secret_in_clear_in_any_raw_row(make_partner) -> None:
    created = make_partner(name="Raw Rows", scopes=["transactions.read"])
    rotated = signing_secret_rotate(partner=created.partner, mode=Mode.TEST)
    provider_connection_upsert(
        partner=created.partner,
        mode=Mode.TEST,
        connector="crypto_dummy",
        base_url="https://provider.example/api",
        credentials={"client_id": "acme", "client_secret": PROVIDER_SECRET},
    )
    dump = repr(
        raw_rows("partners_partner")
        + raw_rows("partners_apicredential")
        + raw_rows("partners_signingsecret")
        + raw_rows("partners_providerconnection")
    )
    for clear in (created.api_key, created.signing_secret, rotated.secret, PROVIDER_SECRET):
        assert clear not in dump
    # the random part of the key is not there either, only its short display prefix
    assert created.api_key[len(created.credential.key_prefix) :] not in dump
    assert all(token.startswith("gAAAAA") for token in raw_column("partners_signingsecret", "secret"))
    assert raw_column("partners_providerconnection", "credentials")[0].startswith("gAAAAA")
    # …while the ORM reads them back in clear
    assert {s.secret for s in SigningSecret.objects.all()} == {created.signing_secret, rotated.secret}
    assert ProviderConnection.objects.get().credentials == {"client_id": "acme", "client_secret": PROVIDER_SECRET}


def test_encrypted_fields_refuse_lookups_on_clear_values(make_partner) -> None:
    created = make_partner(scopes=[])
    with pytest.raises(NotImplementedError):
        SigningSecret.objects.filter(secret=created.signing_secret).exists()


def test_reencrypt_with_a_rotated_key_list(make_partner) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_OLD]):
        created = make_partner(scopes=[])
        provider_connection_upsert(
            partner=created.partner,
            mode=Mode.TEST,
            connector="crypto_dummy",
            base_url="https://provider.example",
            credentials={"token": PROVIDER_SECRET},
        )
        tokens_before = raw_column("partners_signingsecret", "secret")

    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_NEW, KEY_OLD]):
        # both keys decrypt: nothing breaks before the re-encryption runs
        assert SigningSecret.objects.get().secret == created.signing_secret
        assert not is_encrypted_with_primary(tokens_before[0])
        assert reencrypt_all() == {"partners.SigningSecret.secret": 1, "partners.ProviderConnection.credentials": 1}
        assert reencrypt_all() == {"partners.SigningSecret.secret": 0, "partners.ProviderConnection.credentials": 0}
        assert raw_column("partners_signingsecret", "secret") != tokens_before

    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_NEW]):  # the old key is gone
        assert SigningSecret.objects.get().secret == created.signing_secret
        assert ProviderConnection.objects.get().credentials == {"token": PROVIDER_SECRET}

    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_OLD]), pytest.raises(DecryptionError):
        SigningSecret.objects.get()


def test_reencrypt_function_moves_a_token_to_the_first_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_OLD]):
        token = encrypt_str("value")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_NEW, KEY_OLD]):
        fresh = reencrypt(token)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_NEW]):
        assert decrypt_str(fresh) == "value"
        with pytest.raises(DecryptionError):
            decrypt_str(token)


def test_reencrypt_secrets_command(make_partner) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_OLD]):
        make_partner(scopes=[])
    out = io.StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_NEW, KEY_OLD]):
        call_command("reencrypt_secrets", stdout=out)
    assert "partners.SigningSecret.secret: 1 re-encrypted" in out.getvalue()
    # the data is now under KEY_NEW: a key list without it fails loudly, naming the row
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode(), KEY_OLD]),
        pytest.raises(CommandError, match="row"),
    ):
        call_command("reencrypt_secrets", stdout=io.StringIO())
