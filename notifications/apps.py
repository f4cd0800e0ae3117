from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Push notifications through Firebase and signed webhooks to partners."""

    name = "notifications"
