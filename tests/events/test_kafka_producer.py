"""The Kafka producer against librdkafka's mock cluster: a real Kafka protocol peer on loopback.

What our producer published is read back by a real ``confluent_kafka.Consumer``.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from prometheus_client import REGISTRY

from events import kafka
from events.kafka import BatchOutcome, KafkaDisabled, OutgoingMessage
from tests.kafka_mock import MockKafkaCluster, consume_all


def deliveries(outcome: str) -> float:
    return REGISTRY.get_sample_value("addon_kafka_deliveries_total", {"outcome": outcome}) or 0.0


def new_topic() -> str:
    return f"addon-test-{uuid.uuid4().hex[:12]}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def events(topic: str, count: int) -> list[OutgoingMessage]:
    """``count`` messages over three keys, interleaved (k0, k1, k2, k0, …)."""
    return [
        OutgoingMessage(
            message_id=f"evt_{index:03d}",
            topic=topic,
            key=f"txn_{index % 3}",
            value=f'{{"seq": {index}}}'.encode(),
            headers={"event-id": f"evt_{index:03d}", "content-type": "application/json"},
        )
        for index in range(count)
    ]


def test_a_batch_is_acknowledged_and_consumed_back_with_keys_values_and_order_per_key(
    kafka_settings: MockKafkaCluster,
) -> None:
    topic = new_topic()
    messages = events(topic, 30)
    delivered_before = deliveries("delivered")

    outcome = kafka.publish_batch(messages)

    assert outcome.acknowledged_ids == [message.message_id for message in messages]
    assert outcome.failed == [] and outcome.is_complete
    assert deliveries("delivered") - delivered_before == 30
    consumed = consume_all(kafka_settings.bootstrap_servers, topic)
    assert len(consumed) == 30
    by_key: dict[str | None, list[bytes]] = defaultdict(list)
    partitions: dict[str | None, set[int]] = defaultdict(set)
    for record in consumed:  # ordered by (partition, offset)
        by_key[record.key].append(record.value)
        partitions[record.key].add(record.partition)
    for key in ("txn_0", "txn_1", "txn_2"):
        expected = [m.value for m in messages if m.key == key]
        assert by_key[key] == expected  # same order as published
        assert len(partitions[key]) == 1  # one key, one partition
    assert consumed[0].headers["content-type"] == b"application/json"
    reported = {(d.partition, d.offset) for d in outcome.deliveries}
    assert reported == {(record.partition, record.offset) for record in consumed}


def test_publish_then_flush_reports_each_delivery(kafka_settings: MockKafkaCluster) -> None:
    topic = new_topic()
    reports: list[tuple[KafkaError | None, bytes | None]] = []

    def remember(error: KafkaError | None, message: Message) -> None:
        reports.append((error, message.value()))

    for value in (b"one", b"two", b"three"):
        kafka.publish(topic, "same-key", value, {"source": "test"}, on_delivery=remember)
    assert kafka.flush(10.0) == 0

    assert reports == [(None, b"one"), (None, b"two"), (None, b"three")]
    consumed = consume_all(kafka_settings.bootstrap_servers, topic)
    assert [(c.key, c.value, c.headers) for c in consumed] == [
        ("same-key", value, {"source": b"test"}) for value in (b"one", b"two", b"three")
    ]


def test_a_message_without_key_is_published(kafka_settings: MockKafkaCluster) -> None:
    topic = new_topic()
    outcome = kafka.publish_batch([OutgoingMessage("evt_nokey", topic, None, b"{}")])

    assert outcome.acknowledged_ids == ["evt_nokey"]
    [record] = consume_all(kafka_settings.bootstrap_servers, topic)
    assert (record.key, record.value) == (None, b"{}")


def test_unreachable_kafka_fails_every_message_within_the_message_timeout(settings: Any) -> None:
    settings.ENABLE_KAFKA = True
    settings.KAFKA = {"bootstrap.servers": f"127.0.0.1:{closed_port()}", "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 1500
    failed_before = deliveries("failed")
    started = time.monotonic()
    try:
        outcome = kafka.publish_batch(events("addon-test-unreachable", 3))
    finally:
        kafka.reset_producer()
    elapsed = time.monotonic() - started

    # bounded by message.timeout.ms (2 s here), not librdkafka's 300 s default; generous for a loaded machine
    assert 1.4 < elapsed < 30
    assert outcome == BatchOutcome(
        tuple(
            kafka.Delivery(f"evt_{index:03d}", "addon-test-unreachable", False, error="_MSG_TIMED_OUT")
            for index in range(3)
        )
    )
    assert outcome.acknowledged_ids == []
    assert deliveries("failed") - failed_before == 3


def test_a_message_without_report_in_time_is_not_acknowledged(settings: Any) -> None:
    settings.ENABLE_KAFKA = True
    settings.KAFKA = {"bootstrap.servers": f"127.0.0.1:{closed_port()}", "security.protocol": "PLAINTEXT"}
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 5000
    try:
        outcome = kafka.publish_batch(events("addon-test-slow", 2), timeout=0.3)
    finally:
        kafka.reset_producer()

    assert [(d.is_acknowledged, d.error) for d in outcome.deliveries] == [(False, "NO_DELIVERY_REPORT")] * 2


def test_disabled_kafka_raises_and_sends_nothing(kafka_settings: MockKafkaCluster, settings: Any) -> None:
    settings.ENABLE_KAFKA = False
    topic = new_topic()
    counted_before = deliveries("delivered") + deliveries("failed")

    with pytest.raises(KafkaDisabled) as caught:
        kafka.publish(topic, "k", b"v")
    with pytest.raises(KafkaDisabled):
        kafka.publish_batch(events(topic, 2))
    with pytest.raises(KafkaDisabled):
        kafka.flush(1.0)

    assert (caught.value.status, caught.value.code) == (503, "kafka_disabled")
    assert consume_all(kafka_settings.bootstrap_servers, topic) == []
    assert deliveries("delivered") + deliveries("failed") == counted_before


def test_one_producer_per_process_and_a_new_one_when_settings_change(
    kafka_settings: MockKafkaCluster, settings: Any
) -> None:
    first = kafka.get_producer()
    assert kafka.get_producer() is first

    settings.KAFKA_MESSAGE_TIMEOUT_MS = 4000

    assert kafka.get_producer() is not first


def test_the_health_check_reaches_the_mock_cluster(kafka_settings: MockKafkaCluster) -> None:
    kafka.check_connection(timeout=5.0)  # raises when no broker answers


def test_producer_config_is_idempotent_and_passes_only_non_empty_settings(settings: Any) -> None:
    settings.KAFKA = {
        "bootstrap.servers": "kafka-1.bank.sn:9093,kafka-2.bank.sn:9093",
        "security.protocol": "SSL",
        "ssl.ca.location": "/etc/addon/kafka/ca.pem",
        "ssl.certificate.location": "/etc/addon/kafka/client.pem",
        "ssl.key.location": "/etc/addon/kafka/client.key",
        "ssl.key.password": "",
        "sasl.mechanism": "",
        "sasl.username": "",
        "sasl.password": "",
    }
    settings.KAFKA_MESSAGE_TIMEOUT_MS = 20000

    assert kafka.producer_config() == {
        "bootstrap.servers": "kafka-1.bank.sn:9093,kafka-2.bank.sn:9093",
        "security.protocol": "SSL",
        "ssl.ca.location": "/etc/addon/kafka/ca.pem",
        "ssl.certificate.location": "/etc/addon/kafka/client.pem",
        "ssl.key.location": "/etc/addon/kafka/client.key",
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 20000,
        "client.id": "addon-partner",
    }


def test_librdkafka_accepts_the_tls_configuration_and_loads_the_files(settings: Any, tmp_path: Path) -> None:
    ca, cert, key = tls_files(tmp_path)
    settings.KAFKA = {
        "bootstrap.servers": f"127.0.0.1:{closed_port()}",
        "security.protocol": "SSL",
        "ssl.ca.location": str(ca),
        "ssl.certificate.location": str(cert),
        "ssl.key.location": str(key),
    }

    producer = Producer(kafka.producer_config())  # librdkafka loads and checks the files here
    producer.flush(0)

    settings.KAFKA = {**settings.KAFKA, "ssl.ca.location": str(tmp_path / "missing.pem")}
    with pytest.raises(KafkaException, match=r"ssl\.ca\.location"):
        Producer(kafka.producer_config())


def tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a client certificate signed by it, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def certificate(subject: str, issuer: str, public_key: Any, signing_key: Any, is_ca: bool) -> x509.Certificate:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(signing_key, hashes.SHA256())
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("addon-test-ca", "addon-test-ca", ca_key.public_key(), ca_key, True)
    client_cert = certificate("addon-partner", "addon-test-ca", client_key.public_key(), ca_key, False)
    paths = (directory / "ca.pem", directory / "client.pem", directory / "client.key")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(client_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths
