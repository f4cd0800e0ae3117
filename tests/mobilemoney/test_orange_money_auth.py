"""Orange Money credentials at work, against the simulator over HTTP: the OAuth token shared by
every worker (one token request under concurrency), its expiry and revocation, the RSA PIN
(round trip, key rotation with error 4003, wrong PIN), and Basic-auth notifications
(docs/providers/orange_money.md §6)."""

from __future__ import annotations

import base64
import threading
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.cache import cache

from core.errors import ErrorCode, ProviderRejected, ProviderUnavailable
from core.http import Timeouts
from core.money import Money
from mobilemoney.providers.base import CashInRequest, OperationStatus
from mobilemoney.providers.orange_money import OrangeMoneyConnector
from mobilemoney.providers.orange_money_auth import connection_cache_key, encrypt_pin, token_lifetime
from partners.registry import ConnectorSettings
from sandbox.models import SimCallback, SimObject
from sandbox.orange_money.accounts import om_account_register, om_rotate_key
from sandbox.services import SimAccount, counter_value, effects_count

TIMEOUTS = Timeouts(connect=2.0, read=1.5)


def settings_for(account: SimAccount, sandbox_url: str, **overrides: str) -> ConnectorSettings:
    extra = account.extra
    credentials = {
        "client_id": account.api_key,
        "client_secret": extra["client_secret"],
        "partner_msisdn": extra["partner_msisdn"],  # the 9-digit form is accepted for our own wallet
        "pin": extra["pin"],
        "merchant_code": extra["merchant_code"],
        "callback_api_key": extra["callback_api_key"],
        **overrides,
    }
    return ConnectorSettings(
        connection_id="pcn_om_auth",
        connector="orange_money",
        provider_code="orange-money",
        mode="test",
        base_url=sandbox_url + "orange-money/",
        credentials=credentials,
        timeouts=TIMEOUTS,
        limits={},
    )


def token_requests(account: SimAccount) -> int:
    return counter_value("orange_money", f"token_requests:{account.api_key}")


def cash_in_request(suffix: str = "1234") -> CashInRequest:
    return CashInRequest(f"txn_{uuid.uuid4().hex[:16]}", f"+22177000{suffix}", Money(1000, "XOF"))


# --- PIN encryption (docs/providers/orange_money.md §2) -----------------------------------------------


def test_pin_encryption_round_trips_with_a_generated_key() -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    first = encrypt_pin("4821", base64.b64encode(public_der).decode())
    second = encrypt_pin("4821", base64.b64encode(public_der).decode())

    assert private_key.decrypt(base64.b64decode(first), padding.PKCS1v15()) == b"4821"
    assert private_key.decrypt(base64.b64decode(second), padding.PKCS1v15()) == b"4821"
    assert first != second  # PKCS#1 v1.5 padding is random
    assert len(first) == 344  # a 2048-bit ciphertext in base64, as Sonatel's demo notes


def test_a_key_that_is_not_a_public_key_is_refused() -> None:
    with pytest.raises(ProviderUnavailable, match=r"not a base64 X\.509 public key"):
        encrypt_pin("4821", base64.b64encode(b"not a key").decode())


@pytest.mark.parametrize(("expires_in", "kept"), [(299, 269), (61, 31), (60, 30), (2, 1), (1, 1)])
def test_tokens_are_kept_until_just_before_they_expire(expires_in: int, kept: int) -> None:
    assert token_lifetime(expires_in) == kept


# --- the shared token ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_workers_make_one_token_request(live_server) -> None:
    account = om_account_register()
    settings = settings_for(account, live_server.url + "/sandbox/")
    barrier = threading.Barrier(20)
    balances: list[Money] = []
    errors: list[BaseException] = []

    def worker() -> None:
        connector = OrangeMoneyConnector(settings)  # one instance per worker: nothing shared in memory
        barrier.wait()
        try:
            balances.append(connector.balance())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert balances == [Money(100_000_000, "XOF")] * 20
    assert token_requests(account) == 1


@pytest.mark.django_db(transaction=True)
def test_an_expired_token_is_refreshed_and_a_fresh_one_is_reused(live_server) -> None:
    account = om_account_register(token_ttl_seconds=2)  # kept 1 s
    settings = settings_for(account, live_server.url + "/sandbox/")

    OrangeMoneyConnector(settings).balance()
    OrangeMoneyConnector(settings).balance()
    assert token_requests(account) == 1
    time.sleep(1.1)
    OrangeMoneyConnector(settings).balance()

    assert token_requests(account) == 2


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_is_replaced_once_and_the_call_goes_through(live_server) -> None:
    account = om_account_register()
    connector = OrangeMoneyConnector(settings_for(account, live_server.url + "/sandbox/"))
    connector.balance()
    SimObject.objects.filter(provider="orange_money", kind="token").delete()  # revoked at Sonatel

    request = cash_in_request()
    result = connector.cash_in(request)

    assert result.status is OperationStatus.SUCCEEDED
    assert token_requests(account) == 2
    assert effects_count(provider="orange_money", reference=request.reference) == 1


@pytest.mark.django_db(transaction=True)
def test_wrong_client_secret_is_a_configuration_error(live_server) -> None:
    account = om_account_register()
    connector = OrangeMoneyConnector(settings_for(account, live_server.url + "/sandbox/", client_secret="wrong"))

    with pytest.raises(ProviderRejected) as refused:
        connector.balance()

    assert refused.value.code is ErrorCode.PROVIDER_NOT_CONFIGURED
    assert refused.value.provider_code == "invalid_client"


# --- the PIN key --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_revoked_public_key_is_refetched_once_and_the_cash_in_pays_once(live_server) -> None:
    account = om_account_register()
    settings = settings_for(account, live_server.url + "/sandbox/")
    connector = OrangeMoneyConnector(settings)
    connector.balance()  # caches the current public key
    rotated = om_rotate_key(account.api_key)

    request = cash_in_request()
    result = connector.cash_in(request)

    assert result.status is OperationStatus.SUCCEEDED
    assert effects_count(provider="orange_money", reference=request.reference) == 1
    cached = cache.get(connection_cache_key("public-key", settings.base_url, account.api_key))
    assert cached["key"] == rotated.extra["public_key_der_b64"]


@pytest.mark.django_db(transaction=True)
def test_a_wrong_pin_is_refused_without_a_retry_and_pays_nothing(live_server) -> None:
    account = om_account_register(pin="4821")
    connector = OrangeMoneyConnector(settings_for(account, live_server.url + "/sandbox/", pin="1111"))
    request = cash_in_request()

    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in(request)

    assert (refused.value.code, refused.value.provider_code) == (ErrorCode.PROVIDER_NOT_CONFIGURED, "2011")
    assert effects_count(provider="orange_money", reference=request.reference) == 0


# --- notifications without an endpoint secret ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_a_signing_secret_notifications_carry_the_registered_api_key(live_server) -> None:
    account = om_account_register(sign_callbacks=False, callback_url=live_server.url + "/callbacks/orange-money")
    settings = settings_for(account, live_server.url + "/sandbox/")
    connector = OrangeMoneyConnector(settings)
    request = cash_in_request()
    connector.cash_in(request)
    (callback,) = SimCallback.objects.filter(provider="orange_money")
    headers, body = callback.headers, bytes(callback.body)
    other = OrangeMoneyConnector(settings_for(account, live_server.url + "/sandbox/", callback_api_key="other"))

    assert "X-Sonatel-Signature" not in headers
    assert headers["Authorization"] == f"Basic {account.extra['callback_api_key']}"
    assert connector.verify_callback(headers, body, time.time()) is True
    assert other.verify_callback(headers, body, time.time()) is False
    assert (
        connector.verify_callback({**headers, "Authorization": "Bearer " + account.extra["callback_api_key"]}, body, 0)
        is False
    )
    (event,) = connector.parse_callback(headers, body)
    assert (event.reference, event.event_id) == (request.reference, headers["X-Sonatel-Idempotency-Key"])


# --- wire rules the simulator enforces (the connector passes them) -----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("with_token", "content_type", "status"),
    [(True, None, 415), (False, "application/json", 401), (True, "application/json", 200)],
)
def test_the_simulator_enforces_content_type_and_bearer_token(
    live_server, with_token: bool, content_type: str | None, status: int
) -> None:
    account = om_account_register()
    base = live_server.url + "/sandbox/orange-money/"
    form = {"grant_type": "client_credentials", "client_id": account.api_key}
    token = requests.post(
        base + "oauth/v1/token", data={**form, "client_secret": account.extra["client_secret"]}, timeout=5
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"} if with_token else {}
    if content_type:
        headers["Content-Type"] = content_type

    answer = requests.get(base + "api/account/v1/publicKeys", headers=headers, timeout=5)

    assert answer.status_code == status
    if status != 200:
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == str(status)
    else:
        assert answer.json()["key"] == account.extra["public_key_der_b64"]
