"""Push validation before sending: every problem at once, as field errors, by FCM's rules."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ErrorCode, FieldError, ValidationFailed
from notifications.providers.base import AndroidOptions, ApnsOptions, PushMessage, PushTargets
from notifications.validation import ensure_valid_push, payload_size_bytes, validate_push

ONE_TOKEN = PushTargets.to_tokens(["tok-1"])


def fields(message: PushMessage, targets: PushTargets = ONE_TOKEN) -> list[str]:
    return [error.field for error in validate_push(message, targets)]


def test_a_plain_message_is_valid() -> None:
    assert validate_push(PushMessage(title="Bonjour", body="Salut", data={"k": "v"}), ONE_TOKEN) == []


def test_payload_size_counts_keys_and_values_in_utf8_bytes() -> None:
    message = PushMessage(title="Été", body="ok", data={"clé": "valeur"})
    # title(5) + Été(5) + body(4) + ok(2) + clé(4) + valeur(6)
    assert payload_size_bytes(message) == 26


def filler(total_bytes: int) -> PushMessage:
    """A data-only message whose payload is exactly ``total_bytes`` (key "d" is 1 byte)."""
    return PushMessage(data={"d": "x" * (total_bytes - 1)})


@pytest.mark.parametrize(
    ("targets", "limit"),
    [
        (PushTargets.to_tokens(["tok-1"]), 4096),
        (PushTargets.to_topic("news"), 2048),
        (PushTargets.to_condition("'news' in topics"), 2048),
    ],
)
def test_payload_limit_is_4096_bytes_for_devices_and_2048_for_topics(targets: PushTargets, limit: int) -> None:
    assert validate_push(filler(limit), targets) == []
    errors = validate_push(filler(limit + 1), targets)
    kind = "device" if targets.tokens else "topic"
    assert errors == [FieldError("payload", f"The {kind} message payload is {limit + 1} bytes; the limit is {limit}.")]


@pytest.mark.parametrize("key", ["from", "message_type", "google.c.a.e", "googleAnalytics", "gcm.n.e", "GCM_x", "From"])
def test_reserved_data_keys_are_refused(key: str) -> None:
    assert fields(PushMessage(title="t", data={key: "1"})) == [f"data.{key}"]


def test_collapse_key_and_ordinary_keys_are_allowed_in_data() -> None:
    assert fields(PushMessage(data={"collapse_key": "x", "transaction_id": "txn_1", "fromage": "oui"})) == []


def test_data_values_must_be_strings() -> None:
    data: Any = {"amount": 1500, "paid": True, "ok": "yes"}
    errors = validate_push(PushMessage(title="t", data=data), ONE_TOKEN)
    assert errors == [
        FieldError("data.amount", "Data values must be strings (FCM carries strings only)."),
        FieldError("data.paid", "Data values must be strings (FCM carries strings only)."),
    ]


def test_at_most_500_distinct_tokens() -> None:
    assert fields(PushMessage(title="t"), PushTargets.to_tokens([f"tok-{i}" for i in range(500)])) == []
    assert fields(PushMessage(title="t"), PushTargets.to_tokens([f"tok-{i}" for i in range(501)])) == ["tokens"]
    assert fields(PushMessage(title="t"), PushTargets.to_tokens(["a", "b", "a", " "])) == ["tokens[2]", "tokens[3]"]


@pytest.mark.parametrize(
    "targets",
    [PushTargets(), PushTargets(tokens=("tok",), topic="news"), PushTargets(topic="news", condition="'a' in topics")],
)
def test_exactly_one_target_kind(targets: PushTargets) -> None:
    assert fields(PushMessage(title="t"), targets) == ["targets"]


def test_topic_and_condition_syntax() -> None:
    assert fields(PushMessage(title="t"), PushTargets.to_topic("/topics/news-sn_2")) == []
    assert fields(PushMessage(title="t"), PushTargets.to_topic("news sn")) == ["topic"]
    assert fields(PushMessage(title="t"), PushTargets.to_condition("news && sn")) == ["condition"]
    six = " || ".join(f"'t{i}' in topics" for i in range(6))
    assert fields(PushMessage(title="t"), PushTargets.to_condition(six)) == ["condition"]


def test_an_empty_push_is_refused() -> None:
    assert fields(PushMessage()) == ["body"]


def test_android_and_apns_options_are_checked() -> None:
    bad_android: Any = AndroidOptions(priority="urgent", ttl_seconds=-1, color="green")  # type: ignore[arg-type]
    bad_apns: Any = ApnsOptions(badge=-2, priority=7)  # type: ignore[arg-type]
    assert fields(PushMessage(title="t", android=bad_android, apns=bad_apns)) == [
        "android.priority",
        "android.ttl_seconds",
        "android.color",
        "apns.badge",
        "apns.priority",
    ]
    assert fields(PushMessage(title="t", android=AndroidOptions(ttl_seconds=2_419_201))) == ["android.ttl_seconds"]


def test_ensure_valid_push_raises_a_400_validation_error_listing_every_problem() -> None:
    message = PushMessage(data={"from": "x", "n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValidationFailed) as caught:
        ensure_valid_push(message, PushTargets())
    error = caught.value
    assert (error.status, error.code) == (400, ErrorCode.VALIDATION_ERROR)
    assert [e.field for e in error.errors] == ["targets", "data.from", "data.n"]
