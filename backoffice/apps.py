from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The bank's side: staff roles, four-eyes requests, the audit log, the admin console."""

    name = "backoffice"
    verbose_name = "Back office"
