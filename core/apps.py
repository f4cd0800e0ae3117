from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Plumbing shared by every app: money, errors, ids, the provider HTTP client, logs, metrics."""

    name = "core"
    verbose_name = "Core"
