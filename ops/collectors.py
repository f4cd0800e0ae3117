"""Metrics read at scrape time from the database and the broker (DESIGN.md §8).

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

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from ledger.models import Transaction
from partners.registry import connector_names

logger = logging.getLogger("ops.metrics")

# kombu's Redis transport keeps a queue's messages in a list named after the queue, plus one list
# per priority step when priorities are used ("<queue>\x06\x16<n>").
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)
BROKER_TIMEOUT_SECONDS = 1.0


def unknown_backlog() -> dict[str, tuple[int, float]]:
    """``provider -> (count, age in seconds of the oldest)`` of transactions in ``unknown``."""
    rows = (
        Transaction.objects.filter(status=Transaction.Status.UNKNOWN)
        .values("provider")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by()
    )
    now = timezone.now()
    return {row["provider"]: (row["count"], (now - row["oldest"]).total_seconds()) for row in rows}


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
    def _queue_family(lengths: dict[str, int]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "addon_celery_queue_length", "Messages waiting in a Celery queue on the broker", labels=["queue"]
        )
        for queue, length in sorted(lengths.items()):
            family.add_metric([queue], length)
        return family


ops_registry = CollectorRegistry(auto_describe=False)
ops_registry.register(OpsCollector())
