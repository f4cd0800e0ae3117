from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Bills through Niirpay: billers, lookups, quotes and payments."""

    name = "payments"
