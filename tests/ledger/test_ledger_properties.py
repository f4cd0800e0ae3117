"""Property: whatever happens (holds, captures, releases, reversals, postings, refusals), the books
stay balanced per posting and per currency, and every balance equals the sum of its entries."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from django.db import transaction as db_transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.errors import Conflict, IllegalTransition, InsufficientFunds
from core.money import Money
from ledger.models import Account, AccountKind, Transaction
from ledger.selectors import ledger_check
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    account_get_or_create_system,
    hold_capture,
    hold_release,
    posting_create,
    transaction_create,
    transaction_transition,
)
from ledger.states import TRANSITIONS, Status
from partners.models import Mode
from tests.ledger.conftest import make_partner

CURRENCIES = ("XOF", "EUR")
REFUSALS = (InsufficientFunds, IllegalTransition, Conflict)


REFERENCES = itertools.count(1)


class Books(RuleBasedStateMachine):
    """Two partners, live and test, XOF and EUR; the rules move money every way the services allow."""

    def __init__(self) -> None:
        super().__init__()
        self._atomic = db_transaction.atomic()
        self._atomic.__enter__()  # each run is rolled back in teardown
        self.accounts: list[Account] = []
        for _ in range(2):
            partner = make_partner()
            for mode in (Mode.LIVE, Mode.TEST):
                for currency in CURRENCIES:
                    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=currency)
                    if mode == Mode.LIVE:
                        account_fund(account=account, amount_minor=5_000, description="seed")
                    self.accounts.append(account)
        self.transactions: list[Transaction] = []

    def teardown(self) -> None:
        db_transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(
        index=st.integers(0, 7),
        amount=st.integers(1, 7_000),
        fee=st.integers(0, 300),
        kind=st.sampled_from(["cash_in", "bill_payment", "collection"]),
    )
    def create(self, index: int, amount: int, fee: int, kind: str) -> None:
        account = self.accounts[index]
        outgoing = kind in ("cash_in", "bill_payment")
        try:
            transaction = transaction_create(
                partner=account.partner,  # type: ignore[arg-type]
                mode=account.mode,
                kind=kind,
                provider="wave",
                money=Money(amount, account.currency),
                fee=Money(min(fee, amount) if not outgoing else fee, account.currency),
                client_reference=f"p-{next(REFERENCES)}",  # one movement per client reference
                metadata={},
                hold_account=account if outgoing else None,
            )
        except InsufficientFunds:
            return
        self.transactions.append(transaction)

    @rule(data=st.data(), legal=st.booleans())
    def transition(self, data: st.DataObject, legal: bool) -> None:
        """Mostly legal moves (so money settles), sometimes any move (so refusals are exercised)."""
        if not self.transactions:
            return
        transaction = data.draw(st.sampled_from(self.transactions))
        targets = sorted(TRANSITIONS[Status(transaction.status)]) if legal else list(Status)
        if not targets:
            return
        with contextlib.suppress(*REFUSALS):
            transaction_transition(
                transaction=transaction, to_status=data.draw(st.sampled_from(targets)), cause="worker"
            )

    @rule(data=st.data(), capture=st.booleans())
    def settle_hold_directly(self, data: st.DataObject, capture: bool) -> None:
        held = [t for t in self.transactions if t.kind in ("cash_in", "bill_payment")]
        if not held:
            return
        transaction = data.draw(st.sampled_from(held))
        with contextlib.suppress(*REFUSALS):
            (hold_capture if capture else hold_release)(transaction=transaction)

    @rule(source=st.integers(0, 7), amount=st.integers(1, 6_000), to_kind=st.sampled_from(["suspense", "fees"]))
    def post(self, source: int, amount: int, to_kind: str) -> None:
        account = self.accounts[source]
        other = account_get_or_create_system(kind=to_kind, mode=account.mode, currency=account.currency)
        lines = [(account, -amount), (other, amount // 2), (other, amount - amount // 2)]
        with contextlib.suppress(InsufficientFunds):
            posting_create(lines=[line for line in lines if line[1]], description="random")

    @invariant()
    def books_balance(self) -> None:
        check = ledger_check()
        assert check.is_ok, check.problems

    @invariant()
    def partner_accounts_stay_within_limits(self) -> None:
        for account in Account.objects.filter(kind=AccountKind.PARTNER):
            assert account.held_minor >= 0
            assert account.balance_minor - account.held_minor >= -account.overdraft_limit_minor


@pytest.mark.django_db
def test_random_histories_keep_the_books_balanced() -> None:
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
