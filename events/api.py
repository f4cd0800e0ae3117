"""``POST /api/v1/events/test``: publish a text or JSON message to an allowlisted Kafka topic."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ErrorCode, ServiceUnavailable
from core.ids import new_id
from events.kafka import OutgoingMessage, publish_batch
from events.serializers import EventTestPublishedSerializer, EventTestPublishSerializer
from ledger.idempotency import idempotent
from partners.api_base import PartnerApiView


class EventTestPublishApi(PartnerApiView):
    """Publishes one message, `text` or `json` (exactly one, at most 64 KiB), to a Kafka test topic
    of the bank (`topic`, one of the allowlisted test topics; the first by default), keyed by
    your partner id, and answers `202` with the partition and offset Kafka wrote it at. `503`
    (`kafka_disabled` or `service_unavailable`) when Kafka is off or did not acknowledge it."""

    required_scopes = ["events.publish"]

    @extend_schema(
        operation_id="events_test_publish",
        tags=["events"],
        request=EventTestPublishSerializer,
        responses={202: EventTestPublishedSerializer},
        summary="Publish a test message to Kafka",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = EventTestPublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # 400 problem+json with per-field errors
        topic, value, content_type = (serializer.validated_data[k] for k in ("topic", "value", "content_type"))
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
