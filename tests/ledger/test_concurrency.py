"""Racing debits on one account: the row lock and the funds check let exactly the covered ones through.

PostgreSQL here allows 100 connections shared by everyone on the machine, so the 200 debits
race from 50 threads, each on its own connection, all released at once by a barrier; every
thread fires 4 debits back to back, so up to 50 transactions contend for the row at any time.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from core.errors import Conflict, InsufficientFunds
from core.money import Money
from ledger.models import Account, AccountKind, Hold, LedgerEntry
from ledger.selectors import ledger_check
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    account_get_or_create_system,
    posting_create,
    transaction_create,
)
from partners.models import Mode, Partner

THREADS = 50
DEBITS = 200
FUNDS = 100


def race(operation: Callable[[], None]) -> Counter[str]:
    """Run ``operation`` DEBITS times from THREADS threads released together; count the outcomes."""
    barrier = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(DEBITS // THREADS):
                try:
                    operation()
                    outcome = "ok"
                except InsufficientFunds:
                    outcome = "insufficient_funds"
                except Conflict as exc:
                    outcome = str(exc.code)
                with lock:
                    outcomes[outcome] += 1
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def funded_account() -> tuple[Partner, Account]:
    partner = Partner.objects.create(name="Racer", code="racer")
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    account_fund(account=account, amount_minor=FUNDS, description="funds for the race")
    return partner, account


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_debits_of_1_on_100_exactly_100_succeed() -> None:
    _, account = funded_account()
    suspense = account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF")

    def debit() -> None:
        mine = Account.objects.get(pk=account.pk)  # each thread its own object, as each request would
        posting_create(lines=[(mine, -1), (suspense, 1)], description="debit")

    outcomes = race(debit)

    assert outcomes == Counter({"ok": 100, "insufficient_funds": 100})
    account.refresh_from_db()
    assert (account.balance_minor, account.held_minor) == (0, 0)
    assert not LedgerEntry.objects.filter(account=account, balance_after_minor__lt=0).exists()
    after = sorted(
        LedgerEntry.objects.filter(account=account, amount_minor=-1).values_list("balance_after_minor", flat=True)
    )
    assert after == list(range(100))  # every unit debited exactly once, in some serial order
    assert ledger_check().is_ok


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_transaction_creations_of_1_on_100_exactly_100_hold() -> None:
    partner, account = funded_account()
    references = itertools.count(1)

    def create() -> None:
        transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind="cash_in",
            provider="wave",
            money=Money(1, "XOF"),
            client_reference=f"race-{next(references)}",  # 200 different movements
            metadata={},
            hold_account=account,
        )

    outcomes = race(create)

    assert outcomes == Counter({"ok": 100, "insufficient_funds": 100})
    account.refresh_from_db()
    assert (account.balance_minor, account.held_minor, account.available_minor) == (100, 100, 0)
    assert Hold.objects.filter(account=account, status="placed").count() == 100
    assert ledger_check().is_ok


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_creations_under_one_client_reference_move_money_once() -> None:
    """The same client reference under new idempotency keys: one movement, 199 refusals naming it."""
    partner, account = funded_account()

    def create() -> None:
        transaction_create(
            partner=partner,
            mode=Mode.LIVE,
            kind="cash_in",
            provider="wave",
            money=Money(1, "XOF"),
            client_reference="order-42",
            metadata={},
            hold_account=account,
        )

    outcomes = race(create)

    assert outcomes == Counter({"ok": 1, "duplicate_client_reference": 199})
    account.refresh_from_db()
    assert (account.balance_minor, account.held_minor) == (100, 1)
    assert Hold.objects.filter(account=account).count() == 1
    assert ledger_check().is_ok
