from django.apps import AppConfig


class MobileMoneyConfig(AppConfig):
    """Orange Money and Wave: cash-in, checkout sessions, balances, callbacks."""

    name = "mobilemoney"
