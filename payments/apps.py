from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Bills through Niirpay: billers, lookups, quotes and payments."""

    name = "payments"

    def ready(self) -> None:
        from ledger.balances import register_float_source
        from payments.providers import niirpay  # noqa: F401  (registers the "niirpay" connector)
        from payments.services.catalog import PROVIDER, provider_float

        register_float_source(PROVIDER, provider_float)
