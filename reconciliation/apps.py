from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self) -> None:
        # The four-eyes "adjustment" action (docs/reports.md §3.4): approvals keeps a registry of
        # actions; reconciliation, above it, adds its own.
        from reconciliation.four_eyes import register

        register()
