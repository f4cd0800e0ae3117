"""Business metrics (docs/architecture.md §8). Defined once here; correct under several gunicorn workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set before the process starts, prometheus_client writes
every sample to memory-mapped files in that directory and ``/metrics`` sums them across
workers (django-prometheus switches to the multiprocess collector by itself).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

provider_call_seconds = Histogram(
    "addon_provider_call_seconds",
    "Latency of calls to providers",
    ["provider", "operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)
transactions_total = Counter(
    "addon_transactions_total",
    "Transaction state changes by kind, provider and new status",
    ["kind", "provider", "status"],
)
callbacks_total = Counter(
    "addon_callbacks_total", "Provider callbacks received, by provider and outcome", ["provider", "outcome"]
)
batch_items_total = Counter(
    "addon_batch_items_total", "Batch items processed, by rail and outcome", ["rail", "outcome"]
)
outbox_lag_seconds = Gauge(
    "addon_outbox_lag_seconds",
    "Age of the oldest unpublished outbox row",
    multiprocess_mode="max",
)
kafka_deliveries_total = Counter("addon_kafka_deliveries_total", "Kafka delivery reports, by outcome", ["outcome"])
webhook_deliveries_total = Counter(
    "addon_webhook_deliveries_total", "Partner webhook delivery attempts, by outcome", ["outcome"]
)
celery_tasks_total = Counter(
    "addon_celery_tasks_total", "Celery task outcomes, by task and outcome", ["task", "outcome"]
)
health_checks_total = Counter(
    "addon_health_checks_total", "Readiness checks, by check and outcome", ["check", "outcome"]
)
# Set by the beat task ops.refresh_provider_floats in a worker; "mostrecent" keeps the last value
# written by any process, so the web's /metrics shows it (see ops/services.py).
provider_float_minor = Gauge(
    "addon_provider_float_minor",
    "Our float balance at a provider, in minor units of its currency, as the provider last reported it",
    ["provider", "mode", "currency"],
    multiprocess_mode="mostrecent",
)
provider_float_refreshed_timestamp_seconds = Gauge(
    "addon_provider_float_refreshed_timestamp_seconds",
    "When the provider last answered a float balance query (Unix time)",
    ["provider", "mode"],
    multiprocess_mode="mostrecent",
)
