from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    """The bank's side: staff roles, four-eyes requests, the audit log, the admin console."""

    name = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from backoffice import receivers  # noqa: F401  (the audit log's signal receivers)
        from backoffice.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="backoffice.roles_sync")
