from django.apps import AppConfig


class MobileMoneyConfig(AppConfig):
    """Orange Money and Wave: cash-in, checkout sessions, balances, callbacks."""

    name = "mobilemoney"

    def ready(self) -> None:
        # Connectors register themselves with partners.registry on import (docs/architecture.md §6).
        from ledger.balances import register_float_source
        from mobilemoney.floats import float_source
        from mobilemoney.providers import orange_money, wave  # noqa: F401

        for provider in ("wave", "orange_money"):
            register_float_source(provider, float_source(provider))
