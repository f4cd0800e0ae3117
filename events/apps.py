from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Kafka producer, the outbox relay and the test-publish endpoint."""

    name = "events"
