from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the guarded /metrics view, metrics read at scrape time, provider float gauges."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Counters whose outcomes are known in advance start at 0 in every process: a series that
        # exists before its first event lets rate() and the dashboards show 0 instead of no data
        # (the Prometheus instrumentation guide's advice for label values known up front).
        from core.metrics import kafka_deliveries_total, webhook_deliveries_total
        from notifications.models import WebhookAttempt

        for outcome in ("delivered", "failed"):  # events/kafka.py's delivery report
            kafka_deliveries_total.labels(outcome)
        for outcome in WebhookAttempt.Outcome.values:
            webhook_deliveries_total.labels(outcome)
