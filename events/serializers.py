"""Request body of ``POST /api/v1/events/test``, validated by a DRF serializer (one API dialect)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import serializers

from core.api.fields import ClosedSerializer, TextField

MAX_TEST_MESSAGE_BYTES = 64 * 1024


class EventTestPublishSerializer(ClosedSerializer):
    """``{topic?, text | json}``; ``validated_data`` is ``{"topic", "value": bytes, "content_type"}``.

    The topic defaults to the first of ``KAFKA_TEST_TOPICS`` and must be one of them.
    """

    topic = TextField(required=False)
    text = TextField(required=False, max_length=MAX_TEST_MESSAGE_BYTES)
    json = serializers.JSONField(required=False, allow_null=True, help_text="any JSON value, sent compact")

    def validate_topic(self, topic: str) -> str:
        allowed = list(settings.KAFKA_TEST_TOPICS)
        if topic not in allowed:
            raise serializers.ValidationError(f"must be one of the allowlisted test topics: {', '.join(allowed)}")
        return topic

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_text, has_json = "text" in attrs, "json" in attrs
        if has_text == has_json:
            raise serializers.ValidationError({"body": ["give exactly one of text or json"]})
        if has_text:
            value, content_type = attrs["text"].encode(), "text/plain"
        else:
            value, content_type = json.dumps(attrs["json"], separators=(",", ":")).encode(), "application/json"
        if len(value) > MAX_TEST_MESSAGE_BYTES:
            raise serializers.ValidationError({"body": [f"the message is larger than {MAX_TEST_MESSAGE_BYTES} bytes"]})
        allowed = list(settings.KAFKA_TEST_TOPICS)
        topic = attrs.get("topic") or (allowed[0] if allowed else "")
        if not topic:
            raise serializers.ValidationError({"topic": ["no test topic is allowlisted (KAFKA_TEST_TOPICS)"]})
        return {"topic": topic, "value": value, "content_type": content_type}


class EventTestPublishedSerializer(serializers.Serializer):
    """Where Kafka wrote the test message (the answer of ``POST /api/v1/events/test``)."""

    id = serializers.CharField(help_text="evt_…, the message's id (its Kafka key is your partner id)")
    topic = serializers.CharField()
    partition = serializers.IntegerField()
    offset = serializers.IntegerField()
    content_type = serializers.CharField(help_text="text/plain or application/json")
