"""The Wave simulator settles a payout batch a slice per status poll (docs/providers/wave.md §3),
set-based (docs/performance.md, P6): each payout decided in order against the wallet's running
balance, exactly as one ``payout_pay`` after the other would, with a few statements per poll."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sandbox.models import SimEffect, SimObject
from sandbox.services import SimAccount
from sandbox.wave.accounts import wave_account_register
from sandbox.wave.common import balance_of, wallet_of
from sandbox.wave.views import payout_pay

pytestmark = pytest.mark.django_db

BASE = "/sandbox/wave/v1"
# (last digits of the recipient, amount): paid, blocked (9901), too big for what is left, paid,
# refused for float (9904), paid with the last of the wallet
PAYOUTS = [("1234", 1000), ("9901", 2000), ("1235", 5000), ("1236", 1000), ("9904", 1000), ("1237", 1000)]
FLOAT = 1010 + 1010 + 1010 + 30  # three payouts of 1000 and their 1 % fee, and 30 left


def _body(suffix: str, amount: int, n: int) -> dict[str, Any]:
    return {
        "currency": "XOF",
        "receive_amount": str(amount),
        "mobile": f"+22177000{suffix}",
        "client_reference": f"ref-{n}-{suffix}",
    }


def _client(account: SimAccount) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {account.api_key}")


def test_a_batch_pays_in_order_against_the_running_balance_like_one_payout_after_the_other() -> None:
    batch_account = wave_account_register(float_minor=FLOAT)
    one_by_one = wave_account_register(float_minor=FLOAT)
    bodies = [_body(suffix, amount, n) for n, (suffix, amount) in enumerate(PAYOUTS)]
    expected = [payout_pay(one_by_one, dict(body)) for body in bodies]
    client = _client(batch_account)

    created = client.post(f"{BASE}/payout-batch", {"payouts": bodies}, "application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert created.status_code == 200
    answers = [client.get(f"{BASE}/payout-batch/{created.json()['id']}").json() for _ in range(3)]

    assert [a["status"] for a in answers] == ["processing", "processing", "complete"]
    assert [sum(p["status"] != "processing" for p in a["payouts"]) for a in answers] == [2, 4, 6]  # a third a poll
    payouts = answers[-1]["payouts"]
    assert [(p["status"], p.get("payout_error")) for p in payouts] == expected
    assert [p["status"] for p in payouts] == ["succeeded", "failed", "failed", "succeeded", "failed", "succeeded"]
    assert balance_of(wallet_of(batch_account)) == balance_of(wallet_of(one_by_one)) == 30
    paid = SimEffect.objects.filter(provider="wave", effect="payout", reference__startswith="ref-")
    assert sorted(paid.values_list("reference", flat=True)) == sorted(
        [body["client_reference"] for body in bodies[0::3] + bodies[5:]] * 2  # both wallets paid the same
    )
    for payout in payouts:  # each settled payout is stored and readable on its own, as Wave's are
        stored = client.get(f"{BASE}/payout/{payout['id']}").json()
        assert stored == payout
    assert SimObject.objects.filter(kind="payout", data___account=wallet_of(batch_account)).count() == 6


def test_a_status_poll_costs_a_few_statements_however_many_payouts_it_settles() -> None:
    account = wave_account_register()
    client = _client(account)
    statements = []
    for size in (3, 30):
        bodies = [_body(f"{1000 + n}", 1000, n) for n in range(size)]
        created = client.post(
            f"{BASE}/payout-batch", {"payouts": bodies}, "application/json", HTTP_IDEMPOTENCY_KEY=f"size-{size}"
        )
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(f"{BASE}/payout-batch/{created.json()['id']}").json()
        assert sum(p["status"] == "succeeded" for p in answer["payouts"]) == size // 3
        statements.append(len(queries.captured_queries))
    assert statements[0] == statements[1], statements
