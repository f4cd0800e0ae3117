"""Fixtures of the ledger tests: partners and their accounts, built through the services."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from core.money import Money
from ledger.models import Account, AccountKind, LedgerEntry, OutboxEvent, Transaction, TransactionEvent
from ledger.services import account_fund, account_get_or_create_partner_account, transaction_create
from partners.models import Mode, Partner

_codes = itertools.count(1)
_references = itertools.count(1)


def make_partner(name: str | None = None) -> Partner:
    number = next(_codes)
    return Partner.objects.create(name=name or f"Partner {number}", code=f"partner-{number}")


@pytest.fixture
def partner(db: None) -> Partner:
    return make_partner("Acme Fintech")


@pytest.fixture
def other_partner(db: None) -> Partner:
    return make_partner("Other Bank")


@pytest.fixture
def live_account(partner: Partner) -> Account:
    """A live XOF partner account holding 100,000 XOF, no overdraft."""
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    account_fund(account=account, amount_minor=100_000, description="test top-up")
    account.refresh_from_db()
    return account


@pytest.fixture
def create_outgoing(partner: Partner, live_account: Account) -> Callable[..., Transaction]:
    """Create a pending live cash-in of the partner, holding amount+fee on ``live_account``."""

    def create(amount: int = 1_000, fee: int = 0, **extra: object) -> Transaction:
        return transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind=extra.pop("kind", Transaction.Kind.CASH_IN),  # type: ignore[arg-type]
            provider=extra.pop("provider", "wave"),  # type: ignore[arg-type]
            money=Money(amount, "XOF"),
            fee=Money(fee, "XOF"),
            client_reference=extra.pop("client_reference", f"ref-{next(_references)}"),  # type: ignore[arg-type]
            metadata={},
            hold_account=live_account,
        )

    return create


def counts() -> dict[str, int]:
    """How many rows of each history table exist (to assert that nothing was written)."""
    return {
        "events": TransactionEvent.objects.count(),
        "outbox": OutboxEvent.objects.count(),
        "entries": LedgerEntry.objects.count(),
    }


def system_account(kind: str, mode: str = Mode.LIVE, currency: str = "XOF", provider: str = "") -> Account | None:
    return Account.objects.filter(kind=kind, mode=mode, currency=currency, provider=provider).first()


__all__ = ["AccountKind", "counts", "make_partner", "system_account"]
