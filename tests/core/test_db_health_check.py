"""core/postgresql/base.py: a persistent connection's health is checked without a query, and a
connection the server dropped is still found dead and replaced before a request uses it."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.db import close_old_connections, connection

pytestmark = pytest.mark.django_db(transaction=True)


def _server_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _terminate(pid: int) -> None:
    settings = connection.settings_dict
    dsn = f"host={settings['HOST']} port={settings['PORT']} user={settings['USER']} dbname={settings['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)


def _wait_readable(timeout: float = 10.0) -> None:
    """Until the server's goodbye reached our socket (it is sent at once; this only waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([connection.connection.pgconn.socket], [], [], 0.05)[0]:
            return
    raise AssertionError("the terminated connection's socket never became readable")


def test_a_healthy_connection_is_usable_without_a_round_trip(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _server_pid()  # connected
    raw = connection.connection

    def no_query(*args: object, **kwargs: object) -> None:
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(raw, "cursor", no_query)
    monkeypatch.setattr(raw, "execute", no_query)
    assert connection.is_usable()
    assert connection.connection is raw  # the same connection, kept


def test_a_connection_the_server_terminated_is_found_dead_and_replaced() -> None:
    old_pid = _server_pid()
    _terminate(old_pid)
    _wait_readable()

    assert not connection.is_usable()
    connection.health_check_done = False
    connection.close_if_health_check_failed()  # what Django does before a request's first query
    assert _server_pid() != old_pid  # a fresh connection answered; no error reached the caller


def test_a_request_after_the_server_dropped_every_connection_is_answered(client) -> None:  # type: ignore[no-untyped-def]
    """As after a database restart: the next request gets a fresh connection, not a 500."""
    assert client.get("/health/ready").status_code == 200
    _terminate(_server_pid())
    _wait_readable()
    close_old_connections()  # what Django does as a request starts (the test client skips it)
    assert client.get("/health/ready").status_code == 200
