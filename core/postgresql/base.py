"""The gateway's PostgreSQL backend: django-prometheus's (query metrics) with a health check that
costs no round trip (docs/performance.md §3).

Django checks a persistent connection before the first query of each request
(``CONN_HEALTH_CHECKS``) with ``SELECT 1``: one more round trip on every request, about a
quarter of a transaction read's time on the 2-core machine of the benchmarks. The check exists
for connections the server has dropped since the last request (a restart, a failover, an idle
timeout, ``pg_terminate_backend``). When it does so the server says goodbye (a FATAL message)
and closes the socket, so the socket of an idle connection becomes readable. Here a connection
is usable when psycopg knows it as open and healthy and its socket has nothing to read: a
non-blocking ``select`` of zero seconds, no round trip. Anything that arrived on an idle
connection (the goodbye, an end of file, or an unsolicited message, which web connections don't
expect: they LISTEN to nothing) retires it, and Django opens a fresh one, as after a failed
``SELECT 1``.
"""

from __future__ import annotations

import select

from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as PrometheusDatabaseWrapper
from psycopg.pq import ConnStatus, TransactionStatus


class DatabaseWrapper(PrometheusDatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != ConnStatus.OK or pgconn.transaction_status in (
            TransactionStatus.INERROR,
            TransactionStatus.UNKNOWN,
        ):
            return False
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not readable
