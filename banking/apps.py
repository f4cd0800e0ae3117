from django.apps import AppConfig


class BankingConfig(AppConfig):
    """Bank transfers: batches from partner banks and transfers to other banks."""

    name = "banking"

    def ready(self) -> None:
        from banking.providers import core_banking, partner_bank  # noqa: F401
