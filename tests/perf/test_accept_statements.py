"""What one signed cash-in costs the database on the accept path, with the production caches on
(docs/performance.md §3): every statement, in order. A statement added to the path (a query per
request creeping back, a savepoint, a lock taken early) fails here before it shows in `make bench`.

The funds check's UPDATE of the partner's account is the last statement before the COMMIT
(``holds_reserved_last``): the account row, which every acceptance of the partner must lock, is
held only across the commit.
"""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import seed
from core.short_cache import short_caches_clear
from core.signing import signature_header
from ledger.models import Account, Hold, IdempotencyRecord, OutboxEvent, Transaction
from partners.models import Mode
from partners.services import PartnerCreated, partner_create

pytestmark = pytest.mark.django_db(transaction=True)

CASH_INS = "/api/v1/mobile-money/cash-ins"

# the statements of an acceptance, once the process has read the partner's credentials, provider,
# limits and account (first words, quotes dropped)
EXPECTED = [
    "BEGIN",
    "INSERT INTO ledger_idempotencyrecord",  # the key claimed: the first statement of the transaction
    # the pending transaction with its hold, first event, outbox row and the cash-in, in one
    # statement (core/db.py insert_together, first=); no savepoint: DuplicateReferenceFound
    "WITH w_first AS",
    "UPDATE ledger_idempotencyrecord SET",  # the answer stored
    "UPDATE ledger_account SET",  # the funds check and reserve: last, the row lock held only across the commit
    "COMMIT",
]


@pytest.fixture
def caches_on(settings):  # type: ignore[no-untyped-def]
    settings.PARTNER_AUTH_CACHE_SECONDS = 2
    settings.CONFIGURATION_CACHE_SECONDS = 2
    short_caches_clear()
    yield
    short_caches_clear()


def _post(client: Client, created: PartnerCreated, n: int, amount: str = "1500") -> tuple[int, dict[str, object]]:
    body = json.dumps({"provider": "wave", "msisdn": "+221770000001", "amount": amount, "currency": "XOF",
                       "client_reference": f"stmt-{n}"}).encode()  # fmt: skip
    answer = client.post(
        CASH_INS,
        body,
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {created.api_key}",
            "Idempotency-Key": f"stmt-{time.time_ns()}-{n}",
            "X-Signature": signature_header(created.signing_secret, "POST", CASH_INS, body),
        },
    )
    return answer.status_code, answer.json()


def _first_words(sql: str) -> str:
    words = sql.replace('"', "").split()
    return " ".join(words[: {"SAVEPOINT": 1, "RELEASE": 2}.get(words[0], 3)])


def test_an_acceptance_is_these_statements_and_locks_the_account_last(caches_on, live_server) -> None:  # type: ignore[no-untyped-def]
    seed(live_server.url)
    created = partner_create(name="Statements", mode=Mode.TEST, scopes=["mobile_money.cash_in"])
    client = Client()
    assert _post(client, created, 0)[0] == 202  # reads and caches credentials, provider, limits
    with CaptureQueriesContext(connection) as captured:
        status, body = _post(client, created, 1)
    assert status == 202, body
    statements = [_first_words(query["sql"]) for query in captured.captured_queries]
    assert statements[: statements.index("COMMIT") + 1] == EXPECTED
    # after the commit at most the outbox relay's wake-up (events app); nothing else
    assert all(statement.startswith("NOTIFY") for statement in statements[statements.index("COMMIT") + 1 :])


def test_a_refusal_for_funds_found_last_writes_nothing(caches_on, live_server) -> None:  # type: ignore[no-untyped-def]
    """The funds check runs last, after the other rows were written in the same transaction: a
    refusal rolls them all back (the key stays free), and the 422 is the same as before."""
    seed(live_server.url)
    created = partner_create(name="Refused last", mode=Mode.TEST, scopes=["mobile_money.cash_in"])
    client = Client()
    assert _post(client, created, 0)[0] == 202
    account = Account.objects.get(partner=created.partner, mode=Mode.TEST, currency="XOF")
    before = (Transaction.objects.count(), Hold.objects.count(), OutboxEvent.objects.count(),
              IdempotencyRecord.objects.count(), account.held_minor, account.balance_minor)  # fmt: skip

    status, body = _post(client, created, 1, amount=str(account.balance_minor + 1))

    assert (status, body["code"]) == (422, "insufficient_funds")
    account.refresh_from_db()
    after = (Transaction.objects.count(), Hold.objects.count(), OutboxEvent.objects.count(),
             IdempotencyRecord.objects.count(), account.held_minor, account.balance_minor)  # fmt: skip
    assert after == before
