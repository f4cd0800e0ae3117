from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The transaction ledger: transactions, events, accounts, postings, idempotency, outbox."""

    name = "ledger"
