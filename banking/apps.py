from django.apps import AppConfig


class BankingConfig(AppConfig):
    """Bank transfers: batches from partner banks and transfers to other banks."""

    name = "banking"
