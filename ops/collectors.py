"""Metrics read at scrape time from the database and the broker (docs/architecture.md §8).

They describe shared state (the `unknown` backlog, queue depths), not one process's work, so they
are computed by the web process answering the scrape instead of being counted in every process:
the values are right whatever the number of gunicorn workers, and nothing is summed twice in
multiprocess mode. Each query is small (an index on ``(status, updated_at)``, one ``LLEN`` per
queue); a dependency that is down drops its families and sets ``addon_ops_collector_up`` to 0
rather than failing the scrape, so `/metrics` still answers while PostgreSQL or Redis is down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from ledger.models import Transaction, TransactionEvent
from partners.registry import connector_names

logger = logging.getLogger("ops.metrics")

# kombu's Redis transport keeps a queue's messages in a list named after the queue, plus one list
# per priority step when priorities are used ("<queue>\x06\x16<n>").
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)
BROKER_TIMEOUT_SECONDS = 1.0


def unknown_backlog(*, mode: str | None = None) -> dict[str, tuple[int, float]]:
    """``provider -> (count, age in seconds of the oldest)`` of transactions in ``unknown`` (of ``mode``)."""
    found = Transaction.objects.filter(status=Transaction.Status.UNKNOWN)
    rows = (
        (found if mode is None else found.filter(mode=mode))
        .values("provider")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by()
    )
    now = timezone.now()
    return {row["provider"]: (row["count"], (now - row["oldest"]).total_seconds()) for row in rows}


CALLBACK_WINDOW = timedelta(hours=1)
CALLBACK_QUANTILES = (0.5, 0.95)


def callback_delays() -> dict[str, tuple[float, ...]]:
    """``provider -> (p50, p95 seconds, count)`` from acceptance to a callback's status change.

    Over the transactions created in the last hour only, so the query stays small whatever the
    size of the ledger (the transaction's ``created_at`` and the callback's event time are both
    ours: the provider's clock plays no part).
    """
    events, transactions = TransactionEvent._meta.db_table, Transaction._meta.db_table
    quantiles = ", ".join(
        f"percentile_cont({q}) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM e.created_at - t.created_at))"
        for q in CALLBACK_QUANTILES
    )
    sql = (
        f"SELECT t.provider, {quantiles}, count(*) FROM {events} e JOIN {transactions} t ON t.id = e.transaction_id "  # noqa: S608 - table names from models, values bound
        "WHERE e.cause = %s AND t.created_at >= %s GROUP BY t.provider"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["callback", timezone.now() - CALLBACK_WINDOW])
        return {row[0]: tuple(float(value) for value in row[1:]) for row in cursor.fetchall()}


def queue_lengths(queues: Iterable[str]) -> dict[str, int]:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            names = list(queues)
            for name in names:
                pipe.llen(name)
                for step in PRIORITY_STEPS:
                    pipe.llen(f"{name}{PRIORITY_SEPARATOR}{step}")
            lengths = pipe.execute()
    finally:
        client.close()
    width = 1 + len(PRIORITY_STEPS)
    return {name: sum(lengths[i * width : (i + 1) * width]) for i, name in enumerate(names)}


class OpsCollector(Collector):
    """The `unknown` backlog per provider and the Celery queue depths, read when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("addon_ops_collector_up", "Whether a scrape-time source answered", labels=["source"])
        started = time.perf_counter()
        try:
            yield from self._unknown_families(unknown_backlog())
            yield self._callback_family(callback_delays())
            up.add_metric(["database"], 1)
        except DatabaseError as exc:
            logger.warning("unknown backlog unavailable: %s", exc)
            up.add_metric(["database"], 0)
        try:
            yield self._queue_family(queue_lengths(settings.CELERY_QUEUES))
            up.add_metric(["broker"], 1)
        except redis.RedisError as exc:
            logger.warning("queue lengths unavailable: %s", exc)
            up.add_metric(["broker"], 0)
        yield up
        yield GaugeMetricFamily(
            "addon_ops_collector_seconds", "Time spent reading scrape-time metrics", value=time.perf_counter() - started
        )

    @staticmethod
    def _unknown_families(backlog: dict[str, tuple[int, float]]) -> Iterator[GaugeMetricFamily]:
        count = GaugeMetricFamily(
            "addon_unknown_transactions", "Transactions whose outcome is unknown, by provider", labels=["provider"]
        )
        oldest = GaugeMetricFamily(
            "addon_unknown_oldest_age_seconds",
            "Age (since creation) of the oldest transaction in unknown, by provider; 0 when none",
            labels=["provider"],
        )
        # every provider gets a series, 0 when it has no backlog: a missing series would make the
        # dashboards blank and the growth alert blind right when the first unknown appears
        for provider in sorted(set(connector_names()) | set(backlog)):
            number, age = backlog.get(provider, (0, 0.0))
            count.add_metric([provider], number)
            oldest.add_metric([provider], age)
        yield count
        yield oldest

    @staticmethod
    def _callback_family(delays: dict[str, tuple[float, ...]]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "addon_callback_delay_seconds",
            "From a transaction's acceptance to the status change its provider's callback brought, "
            "by quantile, over the transactions of the last hour",
            labels=["provider", "quantile"],
        )
        for provider, values in sorted(delays.items()):
            for quantile, value in zip(CALLBACK_QUANTILES, values, strict=False):
                family.add_metric([provider, str(quantile)], value)
        return family

    @staticmethod
    def _queue_family(lengths: dict[str, int]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "addon_celery_queue_length", "Messages waiting in a Celery queue on the broker", labels=["queue"]
        )
        for queue, length in sorted(lengths.items()):
            family.add_metric([queue], length)
        return family


ops_registry = CollectorRegistry(auto_describe=False)
ops_registry.register(OpsCollector())
