"""The schema fuzzing publishes to librdkafka's mock cluster (tests/kafka_mock.py), as production would."""

from tests.kafka_mock import kafka_mock_cluster, kafka_settings  # noqa: F401  (fixtures)
