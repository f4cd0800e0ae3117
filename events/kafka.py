"""The Kafka client of the gateway (confluent-kafka), switched by ``ENABLE_KAFKA``."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def producer_config() -> dict[str, Any]:
    """librdkafka settings from the environment: only the non-empty ones are passed on."""
    config = {key: value for key, value in settings.KAFKA.items() if value}
    config.update({"enable.idempotence": True, "acks": "all", "linger.ms": 5})
    return config


def check_connection(*, timeout: float) -> None:
    """Raise when no broker answers a metadata request within ``timeout`` seconds."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    config = {
        key: value for key, value in producer_config().items() if key not in ("enable.idempotence", "acks", "linger.ms")
    }
    client = AdminClient(config)
    try:
        metadata = client.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise ConnectionError(f"Kafka unreachable: {exc}") from exc
    if not metadata.brokers:
        raise ConnectionError("Kafka metadata lists no broker")
