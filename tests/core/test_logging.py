"""JSON log lines carry the request context and never a phone number or a credential."""

import io
import json
import logging

import pytest
from django.conf import settings
from django.test import Client

from core.logging import JsonFormatter, MaskingFilter, RequestContextFilter, bound_context, mask_text


@pytest.fixture
def json_log():  # type: ignore[no-untyped-def]
    """A handler configured exactly like the production console handler, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_phone_and_bearer_token_are_masked(json_log) -> None:  # type: ignore[no-untyped-def]
    logger, stream = json_log
    logger.info("cash-in to +221771234567 with Authorization: Bearer abc123")
    (line,) = lines(stream)
    assert "+221771234567" not in line["message"] and "771234567" not in line["message"]
    assert "*********567" in line["message"]
    assert "abc123" not in json.dumps(line)
    assert "[REDACTED]" in line["message"]


def test_logstash_fields_and_request_context(json_log) -> None:  # type: ignore[no-untyped-def]
    logger, stream = json_log
    with bound_context(request_id="req-abcdef12", partner="ptn_1", transaction="txn_1"):
        logger.warning("hello %s", "world")
    (line,) = lines(stream)
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.masking"
    assert line["request_id"] == "req-abcdef12"
    assert line["partner"] == "ptn_1" and line["transaction"] == "txn_1"
    assert line["@timestamp"].endswith("+00:00")


def test_sensitive_extra_fields_are_redacted(json_log) -> None:  # type: ignore[no-untyped-def]
    logger, stream = json_log
    logger.info(
        "provider call",
        extra={
            "api_key": "ak_live_zzzzzzzzzzzzzzzz",
            "body": {"pin": "1234", "msisdn": "+221781112233", "password": "p", "amount": "1500000"},
            "headers": {"Authorization": "Basic dXNlcjpwYXNz"},
        },
    )
    (line,) = lines(stream)
    text = json.dumps(line)
    for leaked in ("ak_live_zzzz", '1234"', "dXNlcjpwYXNz", "781112233"):
        assert leaked not in text
    assert line["api_key"] == "[REDACTED]"
    assert line["body"]["pin"] == "[REDACTED]"
    assert line["body"]["amount"] == "1500000"  # money is not a phone number
    assert line["body"]["msisdn"].endswith("233")


@pytest.mark.parametrize(
    ("raw", "leak"),
    [
        ('{"secret": "s3cr3t-value"}', "s3cr3t-value"),
        ("token=abcdef0123456789", "abcdef0123456789"),
        ("password: hunter2", "hunter2"),
        ("00221771234567 called", "771234567"),
        ("customer 771234567", "771234567"),
        ("X-Signature: t=1,v1=deadbeef signature=deadbeef", "deadbeef"),
    ],
)
def test_mask_text(raw: str, leak: str) -> None:
    assert leak not in mask_text(raw)


def test_request_log_lines_carry_the_request_id(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = client.get("/health/live", HTTP_X_REQUEST_ID="req-trace-0001")
    assert response["X-Request-ID"] == "req-trace-0001"
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["routine", "request_context", "mask"]


def test_malformed_request_id_is_replaced(client: Client) -> None:
    response = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"].startswith("req_")
    response = client.get("/health/live")
    assert response["X-Request-ID"].startswith("req_") and len(response["X-Request-ID"]) == 36
