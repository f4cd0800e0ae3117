from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Push notifications through Firebase and signed webhooks to partners."""

    name = "notifications"

    def ready(self) -> None:
        from notifications.providers import fcm  # noqa: F401  (registers the "fcm" connector)
