"""How the FCM connector sets up firebase-admin: one named app per connection and settings,
the sandbox seam in test mode only, a service account in live mode, no hidden SDK retries."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import firebase_admin
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import credentials, messaging

from core.errors import ErrorCode
from notifications.providers.base import PushMessage, PushTargets
from notifications.providers.fcm import FcmConnector
from notifications.providers.fcm_app import FirebaseNotConfigured, SandboxCredential, messaging_app
from partners.registry import ConnectorSettings, get_connector_class
from tests.notifications.fcm_support import FAST_TIMEOUTS

SANDBOX = ConnectorSettings(
    connection_id="pcn_app_test",
    connector="fcm",
    provider_code="fcm",
    mode="test",
    base_url="http://127.0.0.1:9/sandbox/fcm",
    credentials={"project_id": "addon-sandbox", "access_token": "ya29.one"},
    timeouts=FAST_TIMEOUTS,
    limits={},
)


def test_the_connector_is_registered_as_fcm() -> None:
    assert get_connector_class("fcm") is FcmConnector


def test_one_app_per_connection_and_a_new_one_when_its_settings_change() -> None:
    first = messaging_app(SANDBOX)
    assert messaging_app(SANDBOX) is first
    assert isinstance(first.credential, SandboxCredential)
    assert first.project_id == "addon-sandbox"

    rotated = messaging_app(replace(SANDBOX, credentials={"project_id": "addon-sandbox", "access_token": "ya29.two"}))

    assert rotated is not first
    with pytest.raises(ValueError):
        firebase_admin.get_app(first.name)  # the stale app is gone


def test_test_mode_points_the_sdk_at_the_sandbox_without_retries_or_redirects() -> None:
    app = messaging_app(replace(SANDBOX, connection_id="pcn_app_seam"))
    service = messaging._get_messaging_service(app)

    assert service._fcm_url == "http://127.0.0.1:9/sandbox/fcm/v1/projects/addon-sandbox/messages:send"
    retry = service._client.session.get_adapter(service._fcm_url).max_retries
    assert (retry.total, retry.connect, retry.read, retry.status, retry.redirect) == (1, 1, 0, 0, 0)
    assert service._client.session.max_redirects == 0
    assert service._client.timeout == 1.5
    # the class attribute is untouched: other apps still talk to the real FCM
    assert messaging._MessagingService.FCM_URL == "https://fcm.googleapis.com/v1/projects/{0}/messages:send"


def test_the_sandbox_credential_hands_out_the_sandbox_token() -> None:
    google_credential = SandboxCredential("ya29.fake").get_credential()
    google_credential.refresh(None)
    assert google_credential.token == "ya29.fake" and google_credential.valid


def test_a_test_connection_without_access_token_is_not_configured() -> None:
    broken = replace(SANDBOX, connection_id="pcn_app_broken", credentials={"project_id": "addon-sandbox"})
    with pytest.raises(FirebaseNotConfigured) as caught:
        messaging_app(broken)
    assert caught.value.code == ErrorCode.PROVIDER_NOT_CONFIGURED


def test_live_mode_is_refused_while_firebase_is_disabled(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FIREBASE_ENABLED = False
    live = replace(SANDBOX, connection_id="pcn_app_live_off", mode="live")

    with pytest.raises(FirebaseNotConfigured):
        FcmConnector(live).send(PushMessage(title="t"), PushTargets.to_tokens(["tok"]))


def service_account_file(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "addon-live-project",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "push@addon-live-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def test_live_mode_uses_the_service_account_file_and_the_real_fcm_url(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.FIREBASE_ENABLED = True
    settings.FIREBASE_CREDENTIALS_FILE = str(service_account_file(tmp_path))
    live = replace(
        SANDBOX, connection_id="pcn_app_live", mode="live", base_url="https://fcm.googleapis.com", credentials={}
    )

    app = messaging_app(live)
    service = messaging._get_messaging_service(app)

    assert isinstance(app.credential, credentials.Certificate)
    assert app.project_id == "addon-live-project"
    assert service._fcm_url == "https://fcm.googleapis.com/v1/projects/addon-live-project/messages:send"
    retry = service._client.session.get_adapter(service._fcm_url).max_retries
    assert (retry.read, retry.status) == (0, 0)
