from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the guarded /metrics view, metrics read at scrape time, provider float gauges."""

    name = "ops"
    verbose_name = "Operations"
