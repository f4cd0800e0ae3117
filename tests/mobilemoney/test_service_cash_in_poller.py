"""The status poller of cash-ins: which rows are due, backoff, the review flag, provider down."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from core.money import Money
from ledger.models import Transaction
from mobilemoney.models import CashIn
from mobilemoney.services import outcomes
from mobilemoney.services.cash_ins import cash_in_create, cash_in_process, cash_in_resolve, cash_ins_due
from mobilemoney.validation import CashInInput
from partners.models import ProviderConnection
from tests.mobilemoney.api_support import connect_providers, make_partner, paid_count

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def side(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    connect_providers(live_server.url)
    return make_partner(live_server.url)


def accept(side, provider: str, suffix: str) -> CashIn:  # type: ignore[no-untyped-def]
    data = CashInInput(f"+22177000{suffix}", Money(1500, "XOF"), f"ref-{suffix}", "", "")
    return cash_in_create(partner=side.partner, mode="test", provider=provider, data=data)


def test_backoff_grows_and_is_capped_in_test_mode() -> None:
    assert [outcomes.policy("test").delay(n) for n in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert outcomes.policy("live").delay(0) == 30.0


def test_due_rows_are_pushed_forward_and_resolved(side) -> None:  # type: ignore[no-untyped-def]
    cash_in = accept(side, "wave", "9902")
    cash_in_process(cash_in.pk)
    assert Transaction.objects.get(pk=cash_in.transaction_id).status == "unknown"
    assert cash_ins_due() == []  # its poll is not due yet
    CashIn.objects.filter(pk=cash_in.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    assert cash_ins_due() == [cash_in.pk]
    assert cash_ins_due() == []  # the first beat pushed it forward: no double enqueue
    cash_in_resolve(cash_in.pk)
    assert Transaction.objects.get(pk=cash_in.transaction_id).status == "succeeded"
    assert paid_count("wave", cash_in.transaction.public_id) == 1


def test_provider_down_keeps_the_cash_in_in_flight_and_flags_it_when_old(side, settings) -> None:  # type: ignore[no-untyped-def]
    cash_in = accept(side, "orange_money", "1234")
    ProviderConnection.objects.filter(connector="orange_money").update(base_url="http://127.0.0.1:9/")
    cash_in_process(cash_in.pk)
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert txn.status == "processing" and not txn.needs_review  # nothing happened: retried later
    policy = dataclasses.replace(settings.EXECUTION_POLICIES["mobile_money"], review_after=0)
    settings.EXECUTION_POLICIES = {**settings.EXECUTION_POLICIES, "mobile_money": policy}
    cash_in_resolve(cash_in.pk)
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert txn.status == "processing" and txn.needs_review  # flagged, never failed
    assert CashIn.objects.get(pk=cash_in.pk).next_poll_at is not None  # still polled
    assert paid_count("orange_money", txn.public_id) == 0
