from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobileMoneyConfig(AppConfig):
    """Orange Money and Wave: cash-in, checkout sessions, balances, callbacks."""

    name = "mobilemoney"
    verbose_name = _("Mobile money")

    def ready(self) -> None:
        # Connectors register themselves with partners.registry on import (docs/architecture.md §6).
        from ledger.balances import register_float_source
        from mobilemoney.floats import float_source
        from mobilemoney.providers import orange_money, wave  # noqa: F401

        for provider in ("wave", "orange_money"):
            register_float_source(provider, float_source(provider))
