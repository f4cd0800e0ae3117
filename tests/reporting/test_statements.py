"""Partner statements through the API (issue 12, item 2 acceptance): opening + Σ entries =
closing = the balance of GET /balances at the end of the period; a partner sees only its own."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import AccountKind
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    account_get_or_create_system,
    posting_create,
)
from partners.services import partner_create

pytestmark = pytest.mark.django_db(transaction=True)


def partner(live_server: Any, name: str) -> tuple[Any, AddonPartnerClient]:
    created = partner_create(name=name, mode="test", scopes=["balances.read"])
    return created.partner, AddonPartnerClient(live_server.url, created.api_key, created.signing_secret)


def test_a_statement_adds_up_to_the_balance_and_shows_only_the_partners_rows(live_server: Any) -> None:
    today = timezone.localdate()
    yesterday = timezone.now() - timedelta(days=1)
    a, client_a = partner(live_server, "Alpha")
    with mock.patch("django.utils.timezone.now", return_value=yesterday):  # entries booked the day before
        account = account_get_or_create_partner_account(partner=a, mode="test", currency="XOF")
        account_fund(account=account, amount_minor=5_000, description="top-up of yesterday")
    account_fund(account=account, amount_minor=700, description="top-up of today")
    external = account_get_or_create_system(kind=AccountKind.EXTERNAL, provider="bank", mode="test", currency="XOF")
    posting_create(lines=[(account, -300), (external, 300)], description="fee =1+1 charged")
    b, client_b = partner(live_server, "Bravo")

    status, headers, body = client_a.get("/api/v1/statements", params={"from": today, "to": today})
    assert status == 200, body
    assert body["opening_balance"] == "1000005000"  # the sandbox funding and yesterday's top-up
    assert [(e["amount"], e["description"]) for e in body["entries"]] == [
        ("700", "top-up of today"),
        ("-300", "fee =1+1 charged"),
    ]
    assert body["entry_count"] == 2 and body["closing_balance"] == "1000005400"
    opening, total = Decimal(body["opening_balance"]), sum(Decimal(e["amount"]) for e in body["entries"])
    assert opening + total == Decimal(body["closing_balance"])
    _, _, balances = client_a.get("/api/v1/balances")
    assert balances["accounts"][0]["balance"] == body["closing_balance"]

    status, headers, content = client_a.get(
        "/api/v1/statements", params={"from": today, "to": today, "currency": "XOF"}, headers={"Accept": "text/csv"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM for spreadsheets
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row["amount"] for row in rows] == ["700", "-300"]
    assert rows[1]["description"] == "fee =1+1 charged"  # not a formula: left as it is
    assert rows[-1]["balance_after"] == body["closing_balance"]

    status, _, other = client_b.get("/api/v1/statements", params={"from": today - timedelta(days=1), "to": today})
    assert status == 200
    assert [e["description"] for e in other["entries"]] == ["sandbox top-up"]  # its own funding, nothing of A's
    assert other["closing_balance"] == "1000000000"
    assert b.pk != a.pk


BAD_QUERIES = [
    ({"to": "2026-11-16"}, 400, "validation_error"),
    ({"from": "2026-11-17", "to": "2026-11-16"}, 400, "validation_error"),
    ({"from": "2026-13-01", "to": "2026-11-16"}, 400, "validation_error"),
    ({"from": "2024-01-01", "to": "2026-11-16"}, 400, "validation_error"),
    ({"from": "2026-11-16", "to": "2026-11-16", "currency": "EUR"}, 404, "not_found"),
]


def test_bad_statement_queries_are_problems(live_server: Any) -> None:
    _, client = partner(live_server, "Charlie")
    for query, status, code in BAD_QUERIES:
        answer_status, headers, body = client.get("/api/v1/statements", params=query)
        assert (answer_status, body["code"]) == (status, code), query
        assert headers["Content-Type"].startswith("application/problem+json")
