"""The sandbox FCM on the wire (without the SDK): authentication, FCM v1 error bodies, checks
FCM makes before delivering, and markers that fail once then deliver."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sandbox.services import account_register
from tests.notifications.fcm_support import delivered, requests_received

pytestmark = pytest.mark.django_db

URL = "/sandbox/fcm/v1/projects/addon-sandbox/messages:send"
TOKEN = "ya29.simulator-test"


@pytest.fixture(autouse=True)
def sandbox_account() -> None:
    account_register(provider="fcm", api_key=TOKEN, extra={"project_id": "addon-sandbox"})


def post(client: Client, body: Any, *, token: str | None = TOKEN, url: str = URL) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", headers=headers)


def test_a_message_to_a_token_is_delivered_and_recorded(client: Client) -> None:
    message = {"token": "tok-1", "notification": {"title": "Bonjour"}, "data": {"k": "v"}}

    response = post(client, {"message": message})

    assert response.status_code == 200
    name = response.json()["name"]
    assert name.startswith("projects/addon-sandbox/messages/0:")
    [record] = delivered()
    assert record["message"] == message
    assert (record["project"], record["target_kind"], record["target"]) == ("addon-sandbox", "token", "tok-1")


@pytest.mark.parametrize("token", [None, "ya29.nobody-knows-me"])
def test_a_missing_or_unknown_access_token_is_401(client: Client, token: str | None) -> None:
    response = post(client, {"message": {"token": "tok-1", "data": {"k": "v"}}}, token=token)

    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert "details" not in response.json()["error"]
    assert delivered() == []


def test_another_project_is_permission_denied(client: Client) -> None:
    response = post(client, {"message": {"token": "tok-1"}}, url=URL.replace("addon-sandbox", "someone-else"))

    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_unregistered_token_gets_the_fcm_v1_error_body(client: Client) -> None:
    response = post(client, {"message": {"token": "tok-unregistered-1", "data": {"k": "v"}}})

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}],
        }
    }


def test_quota_answers_429_with_retry_after(client: Client) -> None:
    response = post(client, {"message": {"token": "tok-quota-1"}})

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.json()["error"]["details"][0]["errorCode"] == "QUOTA_EXCEEDED"


def test_unavailable_fails_once_per_target_then_delivers(client: Client) -> None:
    first = post(client, {"message": {"token": "tok-unavailable-1"}})
    other = post(client, {"message": {"token": "tok-unavailable-2"}})
    second = post(client, {"message": {"token": "tok-unavailable-1"}})

    assert [first.status_code, other.status_code, second.status_code] == [503, 503, 200]
    assert first.json()["error"]["details"][0]["errorCode"] == "UNAVAILABLE"
    assert [record["target"] for record in delivered()] == ["tok-unavailable-1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Invalid JSON payload received."),
        ({"message": {"token": "a", "topic": "b"}}, "Exactly one of token, topic or condition must be set."),
        ({"message": {"token": "a", "data": {"n": 1}}}, "Invalid value at 'message.data[n].value' (TYPE_STRING)."),
        ({"message": {"token": "a", "data": {"gcm.x": "1"}}}, "Invalid data payload key: gcm.x"),
        ({"message": {"token": "a", "data": {"d": "x" * 4096}}}, "Message is too big"),
        ({"message": {"topic": "news", "data": {"d": "x" * 2048}}}, "Message is too big"),
    ],
)
def test_what_fcm_refuses_is_400_invalid_argument_and_not_delivered(client: Client, body: Any, message: str) -> None:
    response = post(client, body)

    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert response.json()["error"]["message"] == message
    assert delivered() == []
    assert requests_received() == 1


def test_validate_only_answers_without_delivering(client: Client) -> None:
    response = post(client, {"message": {"token": "tok-1"}, "validate_only": True})

    assert response.json() == {"name": "projects/addon-sandbox/messages/fake_message_id"}
    assert delivered() == []


def test_only_post_is_accepted(client: Client) -> None:
    assert client.get(URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405
