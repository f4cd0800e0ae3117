from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    """Four-eyes (maker-checker) requests: staff actions that move money or change a live partner."""

    name = "approvals"
    verbose_name = "Four-eyes requests"
