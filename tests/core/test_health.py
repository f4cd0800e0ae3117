"""Liveness and readiness, with each dependency named."""

import socket

import pytest
from django.test import Client, override_settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def test_live_answers(client: Client) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_ready_checks_database_and_redis(client: Client) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis"}  # Kafka only when enabled
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.django_db
def test_ready_is_503_naming_redis_when_redis_is_unreachable(client: Client) -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db
def test_ready_checks_kafka_when_enabled(client: Client) -> None:
    with override_settings(
        ENABLE_KAFKA=True, KAFKA={"bootstrap.servers": f"127.0.0.1:{closed_port()}", "security.protocol": "PLAINTEXT"}
    ):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["kafka"]["status"] == "fail"
