"""Checks a push before anything is sent: the partner gets every problem at once as field
errors (400 problem+json), and FCM never sees a request it would refuse for its content.

The rules are FCM's (docs/providers/fcm.md §3; firebase.google.com/docs/cloud-messaging/concept-options):
- data values are strings; keys are non-empty; reserved keys are refused: ``from``,
  ``message_type`` and anything starting with ``google`` or ``gcm`` (compared case-insensitively,
  stricter than FCM, because a key FCM silently drops is a bug on the partner's side);
- the payload (notification title/body and data: keys plus values, UTF-8 bytes) is at most
  4096 bytes, or 2048 bytes for topic and condition messages (conditions are topic messages);
- 1..500 distinct tokens, or one topic, or one condition of at most 5 topics: exactly one kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.errors import FieldError, ValidationFailed
from notifications.providers.base import (
    MAX_TOKENS_PER_SEND,
    AndroidOptions,
    ApnsOptions,
    PushMessage,
    PushTargets,
)

MAX_PAYLOAD_BYTES = 4096
MAX_TOPIC_PAYLOAD_BYTES = 2048
MAX_TOKEN_LENGTH = 4096
MAX_CONDITION_TOPICS = 5
MAX_ANDROID_TTL_SECONDS = 28 * 24 * 3600  # FCM keeps a message at most 4 weeks
RESERVED_DATA_KEYS = frozenset({"from", "message_type"})
RESERVED_DATA_KEY_PREFIXES = ("google", "gcm")
TOPIC_NAME = re.compile(r"[a-zA-Z0-9\-_.~%]{1,900}")
CONDITION_TOPIC = re.compile(r"'([^']*)'\s+in\s+topics")
COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def payload_size_bytes(message: PushMessage) -> int:
    """The payload size as FCM counts it: keys plus values of the notification and the data."""
    size = 0
    for key, value in (("title", message.title), ("body", message.body)):
        if value:
            size += len(key.encode()) + len(value.encode())
    for key, value in message.data.items():
        size += len(str(key).encode()) + len(str(value).encode())
    return size


def validate_push(message: PushMessage, targets: PushTargets) -> list[FieldError]:
    """Every problem of this push, as field errors (empty when it may be sent)."""
    errors = _target_errors(targets)
    errors += _content_errors(message)
    errors += _data_errors(message.data)
    if message.android is not None:
        errors += _android_errors(message.android)
    if message.apns is not None:
        errors += _apns_errors(message.apns)
    limit = MAX_PAYLOAD_BYTES if targets.tokens else MAX_TOPIC_PAYLOAD_BYTES
    size = payload_size_bytes(message)
    if size > limit:
        kind = "device" if targets.tokens else "topic"
        errors.append(FieldError("payload", f"The {kind} message payload is {size} bytes; the limit is {limit}."))
    return errors


def ensure_valid_push(message: PushMessage, targets: PushTargets) -> None:
    """Raise ``ValidationFailed`` (400, ``validation_error``) listing every problem, if any."""
    errors = validate_push(message, targets)
    if errors:
        raise ValidationFailed("The push notification is invalid.", errors=errors)


def _target_errors(targets: PushTargets) -> list[FieldError]:
    kinds = [
        name
        for name, value in (("tokens", targets.tokens), ("topic", targets.topic), ("condition", targets.condition))
        if value
    ]
    if len(kinds) != 1:
        return [FieldError("targets", "Give exactly one of tokens, topic or condition.")]
    if targets.tokens:
        return _token_errors(targets.tokens)
    if targets.topic:
        return _topic_errors(targets.topic)
    return _condition_errors(targets.condition or "")


def _token_errors(tokens: tuple[str, ...]) -> list[FieldError]:
    if len(tokens) > MAX_TOKENS_PER_SEND:
        return [FieldError("tokens", f"At most {MAX_TOKENS_PER_SEND} tokens per push ({len(tokens)} given).")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, token in enumerate(tokens):
        if not isinstance(token, str) or not token.strip():
            errors.append(FieldError(f"tokens[{index}]", "A token must be a non-empty string."))
        elif len(token) > MAX_TOKEN_LENGTH or any(ch.isspace() for ch in token):
            errors.append(FieldError(f"tokens[{index}]", "This is not a device registration token."))
        elif token in seen:
            # the same device twice would receive the push twice
            errors.append(FieldError(f"tokens[{index}]", "This token is listed twice."))
        else:
            seen.add(token)
    return errors


def _topic_errors(topic: str) -> list[FieldError]:
    name = topic.removeprefix("/topics/")
    if not TOPIC_NAME.fullmatch(name):
        return [FieldError("topic", "A topic name uses letters, digits and -_.~% only (at most 900).")]
    return []


def _condition_errors(condition: str) -> list[FieldError]:
    topics = CONDITION_TOPIC.findall(condition)
    if not topics:
        return [FieldError("condition", "A condition combines topics, e.g. \"'news' in topics && 'sn' in topics\".")]
    if len(topics) > MAX_CONDITION_TOPICS:
        return [FieldError("condition", f"A condition may name at most {MAX_CONDITION_TOPICS} topics.")]
    bad = [name for name in topics if not TOPIC_NAME.fullmatch(name)]
    if bad:
        return [FieldError("condition", f"Invalid topic name in the condition: {bad[0]!r}.")]
    return []


def _content_errors(message: PushMessage) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, value in (("title", message.title), ("body", message.body)):
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(name, "Must be a string."))
    if not (message.title or message.body or message.data):
        errors.append(FieldError("body", "Give a title, a body or data: the push would be empty."))
    return errors


def _data_errors(data: Mapping[Any, Any]) -> list[FieldError]:
    if not isinstance(data, Mapping):
        return [FieldError("data", "Must be an object of string values.")]
    errors: list[FieldError] = []
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            errors.append(FieldError("data", "Data keys must be non-empty strings."))
            continue
        field = f"data.{key}"
        lowered = key.lower()
        if lowered in RESERVED_DATA_KEYS or lowered.startswith(RESERVED_DATA_KEY_PREFIXES):
            errors.append(FieldError(field, f"{key!r} is reserved by FCM (from, message_type, google*, gcm*)."))
        if not isinstance(value, str):
            errors.append(FieldError(field, "Data values must be strings (FCM carries strings only)."))
    return errors


def _android_errors(android: AndroidOptions) -> list[FieldError]:
    errors: list[FieldError] = []
    if android.priority not in (None, "normal", "high"):
        errors.append(FieldError("android.priority", "Must be normal or high."))
    ttl = android.ttl_seconds
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_ANDROID_TTL_SECONDS
    ):
        errors.append(FieldError("android.ttl_seconds", f"Must be whole seconds from 0 to {MAX_ANDROID_TTL_SECONDS}."))
    if android.color is not None and not COLOR.fullmatch(str(android.color)):
        errors.append(FieldError("android.color", "Must be #rrggbb."))
    return errors


def _apns_errors(apns: ApnsOptions) -> list[FieldError]:
    errors: list[FieldError] = []
    badge = apns.badge
    if badge is not None and (isinstance(badge, bool) or not isinstance(badge, int) or badge < 0):
        errors.append(FieldError("apns.badge", "Must be a whole number, 0 or more."))
    if apns.priority not in (None, 5, 10):
        errors.append(FieldError("apns.priority", "Must be 10 (immediate) or 5 (power-saving)."))
    return errors
