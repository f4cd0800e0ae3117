"""Fixtures of the four-eyes tests: staff with the permissions their roles give, and one scenario
per action (a target, what is asked, and a probe of everything the action may change)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from core.money import Money
from ledger.models import Account, Kind, Transaction
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    transaction_create,
    transaction_transition,
)
from ledger.states import Cause, Status
from mobilemoney.models import CheckoutSession
from partners.models import ApiCredential, Mode, PartnerLimit, SigningSecret
from partners.services import PartnerCreated, partner_create

MAKE, DECIDE = "make_request", "decide_request"


def staff(django_user_model, username: str, *codenames: str):  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user(username=username, password="not-used-here-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="backoffice", codename__in=codenames))
    return django_user_model.objects.get(pk=user.pk)  # fresh: no permission cache


@pytest.fixture
def maker(django_user_model):  # type: ignore[no-untyped-def]
    return staff(django_user_model, "awa.operator", MAKE)


@pytest.fixture
def checker(django_user_model):  # type: ignore[no-untyped-def]
    return staff(django_user_model, "moussa.supervisor", MAKE, DECIDE)


@pytest.fixture
def live_partner() -> PartnerCreated:
    return partner_create(name="Live Pay", code="live-pay", mode=Mode.LIVE, scopes=["transactions.read"])


def live_account(created: PartnerCreated) -> Account:
    return account_get_or_create_partner_account(partner=created.partner, mode=Mode.LIVE, currency="XOF")


def unknown_cash_in(created: PartnerCreated, amount_minor: int = 1_500, reference: str = "order-1") -> Transaction:
    """A live cash-in whose provider answer was lost (processing → unknown), its amount held."""
    account = live_account(created)
    if account.balance_minor < amount_minor:
        account_fund(account=account, amount_minor=100_000, description="test funds")
    txn = transaction_create(
        partner=created.partner,
        mode=Mode.LIVE,
        kind=Kind.CASH_IN,
        provider="wave",
        money=Money(amount_minor, "XOF"),
        client_reference=reference,
        hold_account=account,
    )
    transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
    transaction_transition(transaction=txn, to_status=Status.UNKNOWN, cause=Cause.WORKER)
    return txn


def paid_collection(created: PartnerCreated) -> Transaction:
    """A test-mode checkout collection the payer paid (credited to the partner)."""
    txn = transaction_create(
        partner=created.partner, mode=Mode.TEST, kind=Kind.COLLECTION, provider="wave", money=Money(2_000, "XOF")
    )
    transaction_transition(transaction=txn, to_status=Status.PROCESSING, cause=Cause.WORKER)
    transaction_transition(transaction=txn, to_status=Status.SUCCEEDED, cause=Cause.CALLBACK)
    CheckoutSession.objects.create(
        partner=created.partner,
        mode=Mode.TEST,
        provider="wave",
        transaction=txn,
        client_reference="shop-1",
        provider_session_id="cos-sim-1",
        status="complete",
        payment_status="succeeded",
        success_url="https://shop.example.sn/ok",
        error_url="https://shop.example.sn/ko",
    )
    return txn


@dataclass
class Scenario:
    target: str
    requested: dict[str, Any]
    probe: Callable[[], Any]


def _account_probe(created: PartnerCreated) -> Callable[[], Any]:
    def probe() -> Any:
        account = Account.objects.filter(partner=created.partner, mode=Mode.LIVE).first()
        return None if account is None else (account.balance_minor, account.held_minor, account.overdraft_limit_minor)

    return probe


def scenario(action: str, created: PartnerCreated) -> Scenario:
    partner = created.partner
    if action == "force_resolve":
        txn = unknown_cash_in(created)
        return Scenario(
            txn.public_id,
            {"outcome": "succeeded", "evidence": "Wave statement line 42", "provider_reference": "WV-42"},
            lambda: (Transaction.objects.get(pk=txn.pk).status, txn.events.count(), _account_probe(created)()),
        )
    if action == "reverse":
        txn = paid_collection(created)
        return Scenario(txn.public_id, {}, lambda: Transaction.objects.filter(kind=Kind.REFUND).count())
    if action == "top_up":
        return Scenario(partner.code, {"mode": "live", "amount": "250000"}, _account_probe(created))
    if action == "overdraft":
        live_account(created)
        return Scenario(partner.code, {"mode": "live", "limit": "50000"}, _account_probe(created))
    if action == "partner_scopes":
        return Scenario(
            partner.code,
            {"scopes": ["transactions.read", "mobile_money.cash_in"]},
            lambda: type(partner).objects.get(pk=partner.pk).scopes,
        )
    if action == "partner_limits":
        return Scenario(
            partner.code,
            {"mode": "live", "rail": "mobile_money", "max_per_transaction": "100000", "max_per_day": "1000000"},
            lambda: list(PartnerLimit.objects.values_list("rail", "max_per_transaction_minor", "max_per_day_minor")),
        )
    if action == "rotate_secret":
        return Scenario(
            partner.code,
            {"mode": "live"},
            lambda: sorted(SigningSecret.objects.filter(partner=partner).values_list("pk", "status")),
        )
    if action == "revoke_key":
        return Scenario(
            str(created.credential.pk), {}, lambda: ApiCredential.objects.get(pk=created.credential.pk).revoked_at
        )
    raise AssertionError(action)


ALL_ACTIONS = ["force_resolve", "reverse", "top_up", "overdraft"]
ALL_ACTIONS += ["partner_scopes", "partner_limits", "rotate_secret", "revoke_key"]
