"""What real FCM refuses before delivering: a malformed body, not exactly one target, non-string
or reserved data keys, an oversized payload (docs/providers/fcm.md §2, §3).

The sandbox imports nothing of the gateway, so these rules are written again here from FCM's
documentation rather than shared with notifications.validation.
"""

from __future__ import annotations

from typing import Any

TARGET_FIELDS = ("token", "topic", "condition", "fid")
RESERVED_KEYS = frozenset({"from", "message_type"})
RESERVED_PREFIXES = ("google", "gcm")
MAX_PAYLOAD = 4096
MAX_TOPIC_PAYLOAD = 2048


def message_problem(message: Any) -> str | None:
    """Why FCM would answer 400 INVALID_ARGUMENT to this ``message``, or None."""
    if not isinstance(message, dict):
        return "Invalid JSON payload received. 'message' must be an object."
    targets = [name for name in TARGET_FIELDS if message.get(name)]
    if len(targets) != 1:
        return "Exactly one of token, topic or condition must be set."
    data = message.get("data") or {}
    if not isinstance(data, dict):
        return "Invalid value at 'message.data'."
    for key, value in data.items():
        if not isinstance(value, str):
            return f"Invalid value at 'message.data[{key}].value' (TYPE_STRING)."
        if key.lower() in RESERVED_KEYS or key.lower().startswith(RESERVED_PREFIXES):
            return f"Invalid data payload key: {key}"
    limit = MAX_PAYLOAD if targets[0] in ("token", "fid") else MAX_TOPIC_PAYLOAD
    if payload_size(message) > limit:
        return "Message is too big"
    return None


def payload_size(message: dict[str, Any]) -> int:
    notification = message.get("notification") or {}
    size = sum(
        len(key.encode()) + len(str(notification[key]).encode()) for key in ("title", "body") if notification.get(key)
    )
    data = message.get("data") or {}
    return size + sum(len(key.encode()) + len(str(value).encode()) for key, value in data.items())


def target_of(message: dict[str, Any]) -> tuple[str, str]:
    """(kind, value) of the single target of a checked message."""
    for name in TARGET_FIELDS:
        if message.get(name):
            return name, str(message[name])
    raise ValueError("message has no target")  # message_problem() rules this out
