from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The transaction ledger: transactions, events, accounts, postings, idempotency, outbox,
    provider call records."""

    name = "ledger"

    def ready(self) -> None:
        from core.provider_calls import install_recorder
        from ledger.services.provider_calls import LedgerCallRecorder

        install_recorder(LedgerCallRecorder())
