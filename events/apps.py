from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Kafka producer, the outbox relay and the test-publish endpoint."""

    name = "events"

    def ready(self) -> None:
        from django.conf import settings

        from core.health import CHECK_TIMEOUT_SECONDS, register_readiness_check
        from events.kafka import check_connection

        # /health/ready checks Kafka only when it is switched on (ENABLE_KAFKA).
        register_readiness_check(
            "kafka",
            lambda: check_connection(timeout=CHECK_TIMEOUT_SECONDS),
            enabled=lambda: bool(settings.ENABLE_KAFKA),
        )
