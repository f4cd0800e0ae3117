"""Every error kind answers application/problem+json with the right status and code."""

import json

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.urls("tests.core.urls_errors")]

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors", "request_id"}


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_validation_error_lists_each_field(client: Client) -> None:
    response = client.post("/t/echo", data={"name": "far too long a name", "count": 0}, content_type="application/json")
    body = problem(response, 400, "validation_error")
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"name", "count"}
    assert "10 characters" in fields["name"]


def test_parse_error(client: Client) -> None:
    response = client.post("/t/echo", data=b'{"name": ', content_type="application/json")
    problem(response, 400, "parse_error")


def test_unsupported_media_type(client: Client) -> None:
    response = client.post("/t/echo", data=b"name=x", content_type="application/x-www-form-urlencoded")
    problem(response, 415, "unsupported_media_type")


def test_method_not_allowed(client: Client) -> None:
    response = client.delete("/t/echo")
    problem(response, 405, "method_not_allowed")


def test_unknown_url_is_a_problem_404(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing")
    problem(response, 404, "not_found")


def test_throttled_has_retry_after(client: Client) -> None:
    response = client.get("/t/throttled")
    problem(response, 429, "rate_limited")
    assert response["Retry-After"] == "8"


def test_success_is_plain_json(client: Client) -> None:
    response = client.post("/t/echo", data={"name": "ok", "count": 2}, content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {"name": "ok", "count": 2}


def test_unexpected_exception_in_api_view_is_a_generic_500(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    response = client.get("/t/boom", HTTP_X_REQUEST_ID="req-forced-failure-1")
    body = problem(response, 500, "internal_error")
    text = response.content.decode()
    assert "kaboom" not in text and "hunter2" not in text and "Traceback" not in text
    assert body["request_id"] == "req-forced-failure-1"
    logged = [r for r in caplog.records if r.name == "core.api"]
    assert logged and logged[0].request_id == "req-forced-failure-1"  # type: ignore[attr-defined]


@override_settings(DEBUG=False)
def test_unexpected_exception_outside_drf_is_a_generic_500() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/t/plain-boom")
    body = problem(response, 500, "internal_error")
    assert "secret.py" not in response.content.decode()
    assert body["detail"].startswith("An unexpected error occurred")
