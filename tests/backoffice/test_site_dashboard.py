"""The dashboard's selectors (backoffice/dashboard.py) on a known data set, in a bounded number of queries."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backoffice.dashboard import age_label, dashboard
from banking.models import TransferBatch
from core.money import Money
from core.outcomes import Outcome
from ledger.models import Account, Transaction
from ledger.services import (
    account_get_or_create_partner_account,
    outcome_apply,
    transaction_create,
    transaction_transition,
)
from mobilemoney.models import CashInBatch
from partners.models import Mode, Partner

_references = itertools.count(1)
Kind = Transaction.Kind

# (kind, provider, amount, final state, age): the data set the dashboard is checked against.
KNOWN = [
    (Kind.CASH_IN, "wave", 1_000, "succeeded", timedelta(0)),
    (Kind.CASH_IN, "wave", 2_000, "succeeded", timedelta(0)),
    (Kind.CASH_IN, "wave", 4_000, "failed", timedelta(0)),
    (Kind.COLLECTION, "orange_money", 5_000, "succeeded", timedelta(0)),
    (Kind.COLLECTION, "orange_money", 7_000, "unknown", timedelta(hours=2)),
    (Kind.CASH_IN, "orange_money", 8_000, "unknown", timedelta(0)),
    (Kind.BILL_PAYMENT, "niirpay", 10_000, "pending", timedelta(0)),
    (Kind.BANK_TRANSFER_OUT, "interbank", 20_000, "failed", timedelta(days=3)),  # the 30 days only
    (Kind.CASH_IN, "wave", 40_000, "succeeded", timedelta(days=40)),  # in neither window
]


def movement(partner: Partner, kind: str, provider: str, amount: int, state: str, age: timedelta) -> Transaction:
    """A test-mode movement brought to ``state`` through the ledger's services, then aged."""
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    outgoing = kind != Kind.COLLECTION
    created = transaction_create(
        partner=partner,
        mode=Mode.TEST,
        kind=kind,
        provider=provider,
        money=Money(amount, "XOF"),
        client_reference=f"dash-{next(_references)}",
        hold_account=account if outgoing else None,
    )
    if state != "pending":
        transaction_transition(transaction=created, to_status="processing", cause="worker")
    if state == "succeeded":
        outcome_apply(transaction=created, outcome=Outcome.succeeded(f"prov-{created.pk}"), cause="worker")
    elif state == "failed":
        outcome_apply(transaction=created, outcome=Outcome.rejected("refused"), cause="worker")
    elif state == "unknown":
        transaction_transition(transaction=created, to_status="unknown", cause="worker")
    if age:
        Transaction.objects.filter(pk=created.pk).update(created_at=timezone.now() - age)
    return created


def known_traffic(partner: Partner) -> None:
    """Every movement of ``KNOWN``, a cash-in batch and a transfer batch in progress, one done."""
    for line in KNOWN:
        movement(partner, *line)
    CashInBatch.objects.create(partner=partner, mode=Mode.TEST, provider="wave", item_count=7, total_minor=7_000)
    CashInBatch.objects.create(
        partner=partner, mode=Mode.TEST, provider="wave", item_count=3, total_minor=3_000, status="completed"
    )
    TransferBatch.objects.create(
        partner=partner,
        mode=Mode.TEST,
        msg_id="MSG-1",
        message_name="json",
        original_created_at=timezone.now(),
        nb_of_txs=4,
        ctrl_sum_minor=4_000,
        currency="XOF",
        status="processing",
    )


@pytest.fixture
def dashboard_of(db: None, django_assert_max_num_queries) -> Callable[[str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The known data set in place; the dashboard of a mode, read in at most 8 queries."""
    known_traffic(Partner.objects.create(name="Dashboard Partner", code="dashboard-partner"))

    def read(mode: str) -> dict[str, Any]:
        with django_assert_max_num_queries(8):
            return dashboard(mode=mode)

    return read


def lines_by_key(data: dict[str, Any], window: str) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {
        (line["rail"], line["provider"]): (line["count"], line["amount_minor"], line["succeeded"], line["failed"])
        for line in data["windows"][window]["traffic"]
    }


def test_the_dashboard_counts_the_known_data_set_per_rail_and_provider(
    dashboard_of: Callable[[str], dict[str, Any]],
) -> None:
    data = dashboard_of(Mode.TEST)

    # the 24 hours: the two-hour-old unknown counts, the 3- and 40-day-old movements do not
    assert lines_by_key(data, "24h") == {
        ("mobile_money", "wave"): (3, 7_000, 2, 1),
        ("mobile_money", "orange_money"): (3, 20_000, 1, 0),
        ("bills", "niirpay"): (1, 10_000, 0, 0),
    }
    assert lines_by_key(data, "30d") == {
        ("mobile_money", "wave"): (3, 7_000, 2, 1),
        ("mobile_money", "orange_money"): (3, 20_000, 1, 0),
        ("bills", "niirpay"): (1, 10_000, 0, 0),
        ("banking", "interbank"): (1, 20_000, 0, 1),
    }
    # final outcomes only: wave 2 of 3, orange money 1 of 1 (its unknowns wait), niirpay none yet
    assert data["windows"]["24h"]["success_rates"] == {"niirpay": None, "orange_money": 100.0, "wave": 66.7}
    assert data["windows"]["30d"]["success_rates"]["interbank"] == 0.0

    over_24h = data["windows"]["24h"]["over_time"]
    assert len(over_24h["labels"]) == 24
    assert {rail: sum(counts) for rail, counts in over_24h["counts"].items()} == {
        "mobile_money": 6,
        "bills": 1,
        "banking": 0,
    }
    # the last three hours hold them all (the two-hour-old one two buckets before this hour's)
    assert sum(over_24h["counts"]["mobile_money"][-3:]) == 6 and over_24h["counts"]["mobile_money"][:-3] == [0] * 21
    over_30d = data["windows"]["30d"]["over_time"]
    assert len(over_30d["labels"]) == 30 and sum(over_30d["counts"]["banking"]) == 1

    unknown = data["unknown"]
    assert unknown["count"] == 2 and unknown["providers"]["orange_money"]["count"] == 2
    assert 7_200 <= unknown["oldest_seconds"] < 7_200 + 120
    assert unknown["oldest_label"].startswith("2 h ")

    batches = {line.pop("rail"): line for line in data["batches"]}
    assert {rail: (line["rail_label"], line["batches"], line["items"]) for rail, line in batches.items()} == {
        "mobile_money": ("Mobile money", 1, 7),  # the completed batch is not in progress
        "banking": ("Bank transfers", 1, 4),
    }
    assert all(0 <= line["oldest_seconds"] < 60 for line in batches.values())
    floats = Account.objects.filter(kind=Account.Kind.PROVIDER_FLOAT, mode=Mode.TEST)
    assert data["floats"] == [
        {"provider": account.provider, "currency": account.currency, "balance_minor": account.balance_minor}
        for account in floats.order_by("provider", "currency")
    ]
    assert {row["provider"] for row in data["floats"]} >= {"wave", "orange_money"}


def test_the_dashboard_of_a_mode_ignores_the_other_mode(dashboard_of: Callable[[str], dict[str, Any]]) -> None:
    data = dashboard_of(Mode.LIVE)

    assert data["windows"]["24h"]["traffic"] == [] and data["windows"]["30d"]["traffic"] == []
    assert data["unknown"] == {"providers": {}, "count": 0, "oldest_seconds": None, "oldest_label": "—"}
    assert [line["batches"] for line in data["batches"]] == [0, 0]


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (None, "—"),
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3_599, "59 min"),
        (7_380, "2 h 03 min"),
        (90_000, "1 d 01 h"),
    ],
)
def test_ages_read_as_staff_say_them(seconds: float | None, label: str) -> None:
    assert age_label(seconds) == label
