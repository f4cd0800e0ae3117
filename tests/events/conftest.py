"""Kafka tests run against librdkafka's mock cluster (tests/kafka_mock.py)."""

from tests.kafka_mock import kafka_mock_cluster, kafka_settings  # noqa: F401  (fixtures)
