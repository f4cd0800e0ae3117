"""Faults between the gateway and its own peers (issue 17, item 3): one gunicorn for the module,
its PostgreSQL and Redis connections through tests/faults/proxy.py.

- PostgreSQL reset at the COMMIT of an accept (the commit reaches the database, its answer does
  not): the partner's retry with the same key yields exactly one transaction and one hold.
- Redis down for ``--outage-seconds`` (a few in ``make test``): the API answers 503
  problem+json (its guards fail closed) or accepts, never moves money twice, and works again on
  its own when Redis is back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import Account, Transaction
from ledger.services import account_get_or_create_partner_account
from partners.models import ALL_SCOPES, Mode
from partners.services import partner_create
from tests.faults.proxy import Fault, FaultProxy
from tests.mobilemoney.api_support import cash_in_body, connect_providers
from tests.processes import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)
CASH_INS = "/api/v1/mobile-money/cash-ins"


@dataclass
class Gateway:
    url: str
    database: FaultProxy
    redis: FaultProxy


@pytest.fixture(scope="module")
def gateway(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Gateway]:  # type: ignore[no-untyped-def]
    db = settings.DATABASES["default"]
    redis_url = urlsplit(settings.REDIS_URL)
    with (
        FaultProxy(db["HOST"], int(db["PORT"])) as database,
        FaultProxy(redis_url.hostname or "127.0.0.1", int(redis_url.port or 6379)) as redis,
    ):
        redis_through = f"redis://{redis.address}{redis_url.path}"
        env = {
            "DATABASE_URL": f"postgres://{db['USER']}@{database.address}/{db['NAME']}",
            "REDIS_URL": redis_through,
            "CELERY_BROKER_URL": redis_through,
        }
        log = tmp_path_factory.mktemp("gateway") / "gunicorn.log"
        with gunicorn(workers=1, env=env, log=log) as (url, _):
            yield Gateway(url, database, redis)


def partner_client(gateway: Gateway, name: str) -> tuple[AddonPartnerClient, Account]:
    created = partner_create(name=name, mode=Mode.TEST, scopes=ALL_SCOPES)
    account = account_get_or_create_partner_account(partner=created.partner, mode="test", currency="XOF")
    return AddonPartnerClient(gateway.url, created.api_key, created.signing_secret, timeout=15), account


def held(account: Account) -> tuple[int, int]:
    account.refresh_from_db()
    return account.balance_minor, account.held_minor


def test_a_reset_at_the_commit_of_an_accept_leaves_exactly_one_transaction(live_server, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    client, account = partner_client(gateway, "Commit Reset")
    balance, before = held(account)
    body = cash_in_body("wave", client_reference="commit-reset")
    gateway.database.always(Fault.RESET_AFTER_MATCH, after=b'INSERT INTO "ledger_transaction"', match=b"COMMIT")
    try:
        stamp = int(time.time())
        first = client.request("POST", CASH_INS, json=body, idempotency_key="commit-reset-1", t=stamp)
    finally:
        gateway.database.always(Fault.PASS)
    assert gateway.database.faults_injected == 1, "the COMMIT was never reset: nothing was tested"
    assert first.status >= 500  # the gateway could not know whether it committed
    # retried as a partner would (fresh signatures: the same signed bytes twice are a replay)
    retries = [
        client.request("POST", CASH_INS, json=body, idempotency_key="commit-reset-1", t=stamp - 1 - n) for n in range(3)
    ]
    txns = Transaction.objects.filter(client_reference="commit-reset")
    for answer in retries:  # the stored answer replayed, or the key still in use: never run again
        replayed = answer.headers.get("Idempotent-Replayed") == "true"
        assert replayed or answer.status == 409, (answer.status, dict(answer.headers), answer.body)
        if answer.status == 202:  # what was committed, answered at last
            assert answer.body["id"] == txns.get().public_id
        else:
            assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert txns.count() == 1  # the commit that lost its answer is the one transaction
    assert held(account) == (balance, before + 1500)  # one hold, never two


def test_redis_down_answers_503_or_works_never_twice_and_recovers(
    live_server, gateway: Gateway, outage_seconds: float
) -> None:  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    client, account = partner_client(gateway, "Redis Outage")
    balance, before = held(account)
    accepted = 0
    answers: list[int] = []
    with gateway.redis.outage(outage_seconds):
        for number in range(3):
            body = cash_in_body("wave", amount="1000", client_reference=f"outage-{number}")
            answer = client.post(CASH_INS, json=body, idempotency_key=f"outage-{number}")
            answers.append(answer.status)
            assert answer.status in (202, 503), (answer.status, answer.body)
            if answer.status == 503:
                assert answer.headers["Content-Type"].startswith("application/problem+json")
            accepted += answer.status == 202
    assert 503 in answers, "Redis was never missed: nothing was tested"
    # back on its own: the same requests again (same keys): each accepted once, never twice
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        retry = client.post(
            CASH_INS,
            json=cash_in_body("wave", amount="1000", client_reference="outage-0"),
            idempotency_key="outage-0",
        )
        if retry.status == 202:
            break
        time.sleep(0.5)
    assert retry.status == 202, retry.body
    for number in range(1, 3):
        body = cash_in_body("wave", amount="1000", client_reference=f"outage-{number}")
        assert client.post(CASH_INS, json=body, idempotency_key=f"outage-{number}").status == 202
    for number in range(3):
        assert Transaction.objects.filter(client_reference=f"outage-{number}").count() == 1
    assert held(account) == (balance, before + 3 * 1000)
