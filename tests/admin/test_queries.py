"""The transaction pages answer in a bounded number of SQL queries with 10,000 transactions in
the books (created in bulk by the ledger's own bulk service), whatever the page shows.
Measured: the list makes 12 queries, the detail page 18; the bounds leave a little room."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.money import Money
from ledger.models import Transaction
from ledger.services import NewTransaction, account_get_or_create_partner_account, transactions_create_bulk
from partners.models import Mode
from tests.admin.builders import ConsoleData
from tests.admin.conftest import client_for

MANY = 10_000
LIST_BOUND, DETAIL_BOUND = 15, 25


def test_transaction_pages_answer_in_bounded_queries_among_10000(
    console_data: ConsoleData, admin_user: Any, django_assert_max_num_queries: Any
) -> None:
    account = account_get_or_create_partner_account(partner=console_data.partner, mode=Mode.TEST, currency="XOF")
    items = [NewTransaction(money=Money(100 + n, "XOF"), client_reference=f"bulk-{n}") for n in range(MANY)]
    transactions_create_bulk(
        partner=console_data.partner, mode=Mode.TEST, kind=Transaction.Kind.CASH_IN, provider="wave", items=items,
        hold_account=account,
    )  # fmt: skip
    assert Transaction.objects.count() > MANY
    client = client_for(admin_user)
    lists = {
        "admin:ledger_transaction_changelist": [{}, {"status__exact": "pending", "rail": "mobile_money"},
                                                {"q": "77 123 45 67"}, {"q": "bulk-77"}],
        "admin:ledger_transactiontoresolve_changelist": [{}, {"age": "lt1h"}],
    }  # fmt: skip
    for page, queries in lists.items():
        for query in queries:
            with django_assert_max_num_queries(LIST_BOUND):
                response = client.get(reverse(page), query)
            assert response.status_code == 200, (page, query)
            if "q" in query:  # an exact search finds one transaction among the 10,000
                assert response.context["cl"].result_count == 1, query
    with django_assert_max_num_queries(DETAIL_BOUND):
        response = client.get(reverse("admin:ledger_transaction_change", args=[console_data.cash_in.pk]))
    assert response.status_code == 200
