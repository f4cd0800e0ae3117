"""``POST /api/v1/events/test``: publish a text or JSON message to an allowlisted Kafka topic."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ErrorCode, FieldError, ServiceUnavailable, ValidationFailed
from core.ids import new_id
from events.kafka import OutgoingMessage, publish_batch
from ledger.idempotency import idempotent
from partners.api_base import PartnerApiView

MAX_TEST_MESSAGE_BYTES = 64 * 1024
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="1-255 characters"
)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", errors=[FieldError(field, message)])


def test_message_value(data: Any) -> tuple[str, bytes, str]:
    """``(topic, value, content type)`` of a test-publish request; ``ValidationFailed`` otherwise."""
    if not isinstance(data, dict):
        raise _invalid("body", "must be a JSON object")
    allowed = list(settings.KAFKA_TEST_TOPICS)
    topic = data.get("topic", allowed[0] if allowed else "")
    if not isinstance(topic, str) or topic not in allowed:
        raise _invalid("topic", f"must be one of the allowlisted test topics: {', '.join(allowed)}")
    has_text, has_json = "text" in data, "json" in data
    if has_text == has_json:
        raise _invalid("body", "give exactly one of text or json")
    if has_text:
        if not isinstance(data["text"], str):
            raise _invalid("text", "must be a string")
        value, content_type = data["text"].encode(), "text/plain"
    else:
        value, content_type = json.dumps(data["json"], separators=(",", ":")).encode(), "application/json"
    if len(value) > MAX_TEST_MESSAGE_BYTES:
        raise _invalid("body", f"the message is larger than {MAX_TEST_MESSAGE_BYTES} bytes")
    return topic, value, content_type


class EventTestPublishApi(PartnerApiView):
    """Publish one test message and answer where Kafka wrote it (202)."""

    required_scopes = ["events.publish"]

    @extend_schema(
        tags=["events"],
        parameters=[IDEMPOTENCY_KEY],
        request=OpenApiTypes.OBJECT,
        responses={202: OpenApiTypes.OBJECT},
        summary="Publish {topic?, text | json} to an allowlisted Kafka topic (503 kafka_disabled when off)",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        topic, value, content_type = test_message_value(request.data)
        message_id = new_id("evt")  # a test event: same id shape as outbox events
        message = OutgoingMessage(
            message_id=message_id,
            topic=topic,
            key=self.partner.public_id,
            value=value,
            headers={"content-type": content_type, "partner": self.partner.public_id, "mode": self.mode},
        )
        delivery = publish_batch([message]).deliveries[0]  # KafkaDisabled → 503 kafka_disabled
        if not delivery.is_acknowledged:
            raise ServiceUnavailable(
                f"Kafka did not acknowledge the message ({delivery.error}).", code=ErrorCode.SERVICE_UNAVAILABLE
            )
        body = {
            "id": message_id,
            "topic": topic,
            "partition": delivery.partition,
            "offset": delivery.offset,
            "content_type": content_type,
        }
        return Response(body, status=202)
