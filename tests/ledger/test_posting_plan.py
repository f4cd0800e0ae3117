"""A posting's statement is planned once per connection (ledger_post, docs/performance.md P3).

``post_lines`` calls the database function ``ledger_post``, which keeps one generic plan of the
posting statement for the session instead of planning it at every posting. These tests look at
the plan PostgreSQL really ran, as ``auto_explain`` reports it to this client: the parameters
stay parameters (``$n``, a generic plan; a plan made for one call shows that call's arrays), and
in that plan the row locks are still taken above a sort by account id (no deadlock between
postings over the same accounts, whatever the order of their lines). And an entry is written into
no index that another one already covers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Account, AccountKind
from ledger.services import account_get_or_create_system
from ledger.services.postings import post_lines, posting_create
from partners.models import Mode


def suspense(name: str) -> Account:
    return account_get_or_create_system(kind=AccountKind.SUSPENSE, mode=Mode.LIVE, currency="XOF", provider=name)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.fixture
def executed_plans() -> Iterator[list[dict[str, Any]]]:
    """The plans of the statements run inside functions while the test runs (auto_explain, JSON).

    The settings are ``SET LOCAL``: they end with the test's transaction."""
    plans: list[dict[str, Any]] = []

    def keep(notice: Any) -> None:
        head, _, body = (notice.message_primary or "").partition("plan:")
        if head.startswith("duration:") and body.strip():
            plans.append(json.loads(body))

    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "auto_explain.log_verbose = on",
            "auto_explain.log_format = json",
            "client_min_messages = log",
        ):
            cursor.execute(f"SET LOCAL {setting}")
    connection.connection.add_notice_handler(keep)
    try:
        yield plans
    finally:
        connection.connection.remove_notice_handler(keep)


def test_a_posting_is_one_call_of_the_ledger_function(live_account: Account) -> None:
    other = suspense("call")
    with CaptureQueriesContext(connection) as captured:
        posting_create(lines=[(live_account, -10), (other, 10)], description="one call")
    assert [query["sql"].split("(")[0].split() for query in captured.captured_queries] == [
        ["SELECT", "*", "FROM", "ledger_post"]
    ]


def test_every_posting_runs_the_generic_plan_with_locks_above_a_sort_by_id(
    live_account: Account, executed_plans: list[dict[str, Any]]
) -> None:
    first, second, third = suspense("plan-1"), suspense("plan-2"), suspense("plan-3")
    for turn in range(7):  # past PostgreSQL's five custom plans of its default choice
        posting_create(lines=[(live_account, -(turn + 1)), (first, turn + 1)], description=f"turn {turn}")
    post_lines(lines=[(third, -5), (second, 3), (first, 2)], description="three lines, held", held_deltas={})

    postings = [plan for plan in executed_plans if "INSERT INTO ledger_ledgerentry" in plan["Query Text"]]
    assert len(postings) == 8
    for plan in postings:
        calls = [node["Function Call"] for node in nodes(plan["Plan"]) if "Function Call" in node]
        # the accounts' changes, the postings and the lines: parameters, not one call's arrays
        assert len(calls) == 3 and all(call.startswith("unnest($") for call in calls), calls
        (lock,) = [node for node in nodes(plan["Plan"]) if node["Node Type"] == "LockRows"]
        (below,) = lock["Plans"]
        assert (below["Node Type"], below["Sort Key"]) == ("Sort", ["ledger_account.id"])


def test_entries_have_one_index_led_by_the_account(db: None) -> None:
    """``(account_id, id)`` serves every query by account; a second index on ``account_id`` alone
    cost every posting one more index insertion per entry (ledger/migrations/0009)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'ledger_ledgerentry' AND indexdef LIKE %s",
            ["%(account_id%"],
        )
        led_by_account = [row[0].split(" USING ")[1] for row in cursor.fetchall()]
    assert led_by_account == ["btree (account_id, id)"]
