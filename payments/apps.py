from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Bills through Niirpay: billers, lookups, quotes and payments."""

    name = "payments"

    def ready(self) -> None:
        from payments.providers import niirpay  # noqa: F401  (registers the "niirpay" connector)
