"""Request bodies of the push API, validated by DRF serializers (one partner-API dialect).

The serializers check the shape and the types: every text is a string that FCM can carry (no
NUL, no lone surrogate: JSON lets ``"\\ud800"`` through, UTF-8 cannot encode it), numbers are
numbers, unknown fields are refused. The rules that are FCM's own (payload size, reserved data
keys, at most 500 tokens, exactly one target kind, option values) stay in
``notifications.validation``, which the serializer applies in ``validate`` and the FCM connector
applies again before anything is sent; their field names (``payload``, ``targets``,
``data.<key>``, ``android.priority``…) are the ones partners already program against.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rest_framework import serializers

from core.api.fields import ClosedSerializer, FlagField, TextField, WholeNumberField, text_problem
from notifications.models import PushNotification, PushTarget
from notifications.providers.base import AndroidOptions, ApnsOptions, PushMessage, PushTargets
from notifications.validation import validate_push


class TokenListField(serializers.ListField):
    """Device tokens; a problem with one token is reported as ``tokens[<index>]``."""

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        result: list[Any] = []
        errors: list[Any] = []
        for item in data:
            try:
                result.append(self.child.run_validation(item))
                errors.append([])
            except serializers.ValidationError as exc:
                errors.append(exc.detail)
        if any(errors):
            raise serializers.ValidationError(errors)  # a list: flattened as tokens[i] by core.api.errors
        return result


class DataField(serializers.DictField):
    """String data for the app: values and keys must be text FCM can carry."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict):
            for key in data:
                problem = text_problem(str(key))
                if problem is not None:
                    raise serializers.ValidationError(f"Data keys: {problem}")
        return dict(super().to_internal_value(data))


# Option values are names and identifiers, not content: FCM counts only the notification and the
# data in its 4 KB (notifications/validation.py), so each option has a bound of its own, and a
# push FCM would refuse for an oversized option is refused here (docs/conventions.md §37).
MAX_OPTION_LENGTH = 256
MAX_APNS_COLLAPSE_ID = 64  # apns-collapse-id: at most 64 bytes (Apple)
MAX_BADGE = 2**31 - 1  # the badge is a 32-bit number on the device


def option_text(max_length: int = MAX_OPTION_LENGTH) -> TextField:
    return TextField(required=False, allow_null=True, max_length=max_length)


class ClosedOptionsSerializer(ClosedSerializer):
    """Options of one platform: an unknown option is reported on the platform itself."""

    def _unknown_errors(self, unknown: list[str]) -> dict[str, Any]:
        return {"non_field_errors": [f"Unknown options: {', '.join(unknown)}."]}


class AndroidOptionsSerializer(ClosedOptionsSerializer):
    """``AndroidOptions``; value rules (priority, TTL range, colour) are checked by validation.py."""

    priority = TextField(required=False, allow_null=True)
    ttl_seconds = WholeNumberField(required=False, allow_null=True)
    collapse_key = option_text()
    channel_id = option_text()
    sound = option_text()
    tag = option_text()
    click_action = option_text()
    color = TextField(required=False, allow_null=True)
    icon = option_text()


class ApnsOptionsSerializer(ClosedOptionsSerializer):
    """``ApnsOptions``; value rules (badge ≥ 0, priority 5 or 10) are checked by validation.py."""

    badge = WholeNumberField(required=False, allow_null=True, max_value=MAX_BADGE)
    sound = option_text()
    category = option_text()
    thread_id = option_text()
    content_available = FlagField(required=False)
    mutable_content = FlagField(required=False)
    priority = WholeNumberField(required=False, allow_null=True)
    collapse_id = option_text(MAX_APNS_COLLAPSE_ID)


class PushOptionsSerializer(ClosedSerializer):
    android = AndroidOptionsSerializer(required=False, allow_null=True)
    apns = ApnsOptionsSerializer(required=False, allow_null=True)


class PushCreateSerializer(ClosedSerializer):
    """``POST /api/v1/notifications/push``: exactly one of tokens, topic or condition, and content.

    ``validated_data`` holds ``message`` (``PushMessage``) and ``targets`` (``PushTargets``).
    """

    tokens = TokenListField(
        child=TextField(not_a_string="A token must be a non-empty string."), required=False, allow_null=True
    )
    topic = TextField(required=False, allow_null=True)
    condition = TextField(required=False, allow_null=True)
    title = TextField(required=False, allow_null=True)
    body = TextField(required=False, allow_null=True)
    data = DataField(  # type: ignore[assignment]  # a field named "data": the metaclass pops it from the class
        child=TextField(not_a_string="Data values must be strings (FCM carries strings only)."),
        required=False,
        allow_null=True,
    )
    options = PushOptionsSerializer(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        options = attrs.get("options") or {}
        android, apns = options.get("android"), options.get("apns")
        message = PushMessage(
            title=attrs.get("title"),
            body=attrs.get("body"),
            data=attrs.get("data") or {},
            android=AndroidOptions(**_given(android, AndroidOptions)) if android is not None else None,
            apns=ApnsOptions(**_given(apns, ApnsOptions)) if apns is not None else None,
        )
        tokens = tuple(attrs.get("tokens") or ())
        targets = PushTargets(tokens=tokens, topic=attrs.get("topic"), condition=attrs.get("condition"))
        problems = validate_push(message, targets)  # FCM's rules (notifications/validation.py)
        if problems:
            errors: dict[str, list[str]] = {}
            for problem in problems:
                errors.setdefault(problem.field, []).append(problem.message)
            raise serializers.ValidationError(errors)
        return {"message": message, "targets": targets}


def _given(options: dict[str, Any], cls: type[Any]) -> dict[str, Any]:
    """The options given, restricted to the dataclass's fields (DRF leaves out the missing ones)."""
    names = {field.name for field in dataclasses.fields(cls)}
    return {name: value for name, value in options.items() if name in names}


# --- OpenAPI documentation of the response (``notifications.push.push_representation`` renders it)


class PushTargetResultSerializer(serializers.Serializer):
    target = serializers.CharField(help_text="the device token, topic or condition")
    status = serializers.CharField(help_text=" | ".join(PushTarget.Status.values))
    message_id = serializers.CharField(allow_null=True, help_text="FCM's message id once delivered")
    error_code = serializers.CharField(allow_null=True, help_text="FCM's error code when dead or failed")
    attempts = serializers.IntegerField()


PushSummarySerializer = type(
    "PushSummarySerializer",
    (serializers.Serializer,),
    {status: serializers.IntegerField() for status in PushTarget.Status.values},
)


class PushNotificationSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="ntf_…")
    object = serializers.CharField(default="push_notification")
    mode = serializers.CharField()
    status = serializers.CharField(help_text=" | ".join(PushNotification.Status.values))
    target_kind = serializers.CharField(help_text="tokens | topic | condition")
    sends = serializers.IntegerField(help_text="how many send rounds were made")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    summary = PushSummarySerializer(help_text="how many targets are in each status")
    targets = PushTargetResultSerializer(many=True)
