from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobileMoneyConfig(AppConfig):
    """Mobile-money wallets (Wave, Orange Money, the generic wallet protocol and the providers added
    as data on them): cash-in, checkout sessions, balances, callbacks."""

    name = "mobilemoney"
    verbose_name = _("Mobile money")

    def ready(self) -> None:
        # Connectors register themselves with partners.registry on import (docs/architecture.md §6).
        from importlib import import_module

        from ledger.balances import register_float_sources
        from mobilemoney.floats import float_sources
        from mobilemoney.providers.installed import CONNECTOR_MODULES

        for module in CONNECTOR_MODULES:
            import_module(module)
        register_float_sources(float_sources)  # providers are data: listed at each call
