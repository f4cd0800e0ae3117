"""GET /me, /transactions, /transactions/{id}, /balances over real HTTP: a partner sees only its
own rows in the mode of its key."""

from __future__ import annotations

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from core.money import Money
from ledger.models import Kind
from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_transition
from partners.models import ALL_SCOPES, Mode
from partners.services import api_credential_issue, partner_create

pytestmark = pytest.mark.django_db(transaction=True)


def make_client(live_server, name: str, mode: str = Mode.TEST, scopes=ALL_SCOPES):  # type: ignore[no-untyped-def]
    created = partner_create(name=name, mode=mode, scopes=scopes)
    return created.partner, AddonPartnerClient(live_server.url, created.api_key, created.signing_secret)


def cash_in(partner, mode: str, amount: int, reference: str):  # type: ignore[no-untyped-def]
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency="XOF")
    return transaction_create(
        partner=partner, mode=mode, kind=Kind.CASH_IN, provider="wave", money=Money(amount, "XOF"),
        client_reference=reference, hold_account=account,
    )  # fmt: skip


def test_me(live_server) -> None:  # type: ignore[no-untyped-def]
    partner, client = make_client(live_server, "Acme Pay", scopes=["transactions.read"])
    status, _, body = client.get("/api/v1/me")
    assert status == 200
    assert body["partner_id"] == partner.public_id and body["mode"] == "test"
    assert body["scopes"] == ["transactions.read"] and body["sandbox"] is True


def test_transaction_detail_with_events_and_list_filters(live_server) -> None:  # type: ignore[no-untyped-def]
    partner, client = make_client(live_server, "Acme Pay")
    first = cash_in(partner, Mode.TEST, 1500, "order-1")
    second = cash_in(partner, Mode.TEST, 2500, "order-2")
    transaction_transition(transaction=second, to_status="processing", cause="worker")
    transaction_transition(transaction=second, to_status="succeeded", cause="worker")

    status, _, body = client.get(f"/api/v1/transactions/{second.public_id}")
    assert status == 200
    assert body["amount"] == "2500" and body["currency"] == "XOF" and body["status"] == "succeeded"
    assert [e["to_status"] for e in body["events"]] == ["pending", "processing", "succeeded"]

    status, _, body = client.get("/api/v1/transactions", params={"status": "pending"})
    assert [t["id"] for t in body["data"]] == [first.public_id]
    status, _, body = client.get("/api/v1/transactions", params={"client_reference": "order-2"})
    assert [t["id"] for t in body["data"]] == [second.public_id]


def test_cursor_pagination_walks_every_row_once(live_server) -> None:  # type: ignore[no-untyped-def]
    partner, client = make_client(live_server, "Acme Pay")
    made = [cash_in(partner, Mode.TEST, 100 + i, f"r-{i}").public_id for i in range(7)]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        status, _, body = client.get("/api/v1/transactions", params=params)
        assert status == 200 and len(body["data"]) <= 3
        seen += [t["id"] for t in body["data"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == list(reversed(made))


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "status=nope", "cursor=%%%", "created_after=yesterday"])
def test_bad_list_filters_are_problems(live_server, query: str) -> None:  # type: ignore[no-untyped-def]
    _, client = make_client(live_server, "Acme Pay")
    status, headers, body = client.get("/api/v1/transactions?" + query)
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "validation_error"


def test_partner_b_gets_404_for_partner_a_transaction(live_server) -> None:  # type: ignore[no-untyped-def]
    partner_a, _ = make_client(live_server, "Partner A")
    _, client_b = make_client(live_server, "Partner B")
    txn = cash_in(partner_a, Mode.TEST, 1000, "a-1")
    status, _, body = client_b.get(f"/api/v1/transactions/{txn.public_id}")
    assert status == 404 and body["code"] == "not_found"
    assert client_b.get("/api/v1/transactions").body["data"] == []


def test_a_test_key_never_sees_live_data(live_server) -> None:  # type: ignore[no-untyped-def]
    partner, test_client = make_client(live_server, "Acme Pay")
    live_key = api_credential_issue(partner=partner, mode=Mode.LIVE).api_key
    live_txn = cash_in_live(partner)
    test_txn = cash_in(partner, Mode.TEST, 1000, "test-1")
    assert test_client.get(f"/api/v1/transactions/{live_txn.public_id}").status == 404
    assert [t["id"] for t in test_client.get("/api/v1/transactions").body["data"]] == [test_txn.public_id]
    balances = test_client.get("/api/v1/balances").body
    assert balances["mode"] == "test"
    assert balances["accounts"][0]["balance"] == "1000000000"  # the sandbox top-up, untouched by live
    assert live_key.startswith("ak_live_")


def cash_in_live(partner):  # type: ignore[no-untyped-def]
    from ledger.services import account_fund

    account = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    account_fund(account=account, amount_minor=50_000, description="staff top-up")
    return cash_in(partner, Mode.LIVE, 1000, "live-1")


def test_balances_show_available_after_a_hold(live_server) -> None:  # type: ignore[no-untyped-def]
    partner, client = make_client(live_server, "Acme Pay", scopes=["balances.read"])
    cash_in(partner, Mode.TEST, 1500, "hold-1")
    status, _, body = client.get("/api/v1/balances")
    assert status == 200
    (account,) = body["accounts"]
    assert account == {
        "currency": "XOF", "balance": "1000000000", "held": "1500", "available": "999998500", "overdraft_limit": "0",
    }  # fmt: skip
    assert isinstance(body["provider_floats"], list)


def test_scopes_are_enforced(live_server) -> None:  # type: ignore[no-untyped-def]
    _, client = make_client(live_server, "Acme Pay", scopes=["bills.pay"])
    for path in ("/api/v1/transactions", "/api/v1/balances"):
        status, _, body = client.get(path)
        assert status == 403 and body["code"] == "scope_missing"
