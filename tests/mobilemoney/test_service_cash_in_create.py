"""A single cash-in is accepted in one short DB transaction: the ledger's two statements
(funds check; the transaction, its hold, event, outbox row and the CashIn row together), and no
provider call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.money import Money
from mobilemoney.services.cash_ins import cash_in_create
from mobilemoney.validation import CashInInput
from sandbox.models import SimEffect
from tests.mobilemoney.api_support import connect_providers, make_partner

pytestmark = pytest.mark.django_db(transaction=True)


def test_acceptance_writes_two_statements_in_one_transaction_and_calls_no_provider(live_server) -> None:  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    side = make_partner(live_server.url)
    data = CashInInput("+221770001234", Money(1500, "XOF"), "order-1", "", "")
    with CaptureQueriesContext(connection) as captured:
        cash_in = cash_in_create(partner=side.partner, mode="test", provider="wave", data=data)
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    last_block = statements[len(statements) - 1 - statements[::-1].index("BEGIN") : statements.index("COMMIT") + 1]
    writes = [verb for verb in last_block if verb not in ("SAVEPOINT", "RELEASE")]
    # the funds check (UPDATE), then the transaction, its hold + event + outbox row + the cash-in
    # in one statement (WITH … INSERT, core/db.py)
    assert writes == ["BEGIN", "UPDATE", "WITH", "COMMIT"]
    assert statements.count("BEGIN") == 1  # the existing account is read without a transaction of its own
    assert cash_in.transaction.status == "pending"
    assert SimEffect.objects.count() == 0  # the provider is called by the worker, after commit
