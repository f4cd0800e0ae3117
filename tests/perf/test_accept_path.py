"""The accept path's shortcuts keep every guarantee (docs/performance.md), against real gunicorn
workers running with the production per-process caches (PARTNER_AUTH_CACHE_SECONDS=2,
CONFIGURATION_CACHE_SECONDS=2, core/short_cache.py):

- a revoked API key and a rotated-out signing secret are refused by every web worker within 5 s,
  though each worker reuses what it read in between; so are cash-ins to a provider just disabled
  and cash-ins over a partner limit just set;
- callbacks of a provider connection just disabled are refused by every worker within 5 s;
- 100 identical cash-ins released together through the one-transaction accept path move money
  once: one transaction, one hold, one outbox row, every answer the original (or a 409).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from bench.common import WAVE_WEBHOOK_SECRET, seed
from clients.python.addon_partner_client import AddonPartnerClient, ApiResponse
from ledger.models import Hold, OutboxEvent, Transaction
from ledger.selectors import ledger_check
from partners.models import Mode, PartnerLimit
from partners.providers import provider_enable
from partners.services import (
    PartnerCreated,
    api_credential_revoke,
    partner_create,
    signing_secret_revoke_previous,
    signing_secret_rotate,
)
from sandbox.wave.events import signature_header as wave_signature
from tests.processes import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED_WITHIN_SECONDS = 5.0
CASH_INS = "/api/v1/mobile-money/cash-ins"


@pytest.fixture(scope="module")
def web(django_db_setup: None) -> Iterator[str]:
    # two workers of four threads each, as `make run`; the production cache (the suite's default is 0)
    env = {"WEB_THREADS": "4", "PARTNER_AUTH_CACHE_SECONDS": "2", "CONFIGURATION_CACHE_SECONDS": "2"}
    with gunicorn(workers=2, env=env) as (base, _):
        yield base


def _partner() -> PartnerCreated:
    return partner_create(name=f"Cache {time.time_ns()}", mode=Mode.TEST, scopes=["mobile_money.cash_in"])


def _seconds_until_refused(
    call: Callable[[], ApiResponse], code: str, *, changed_at: float, status: int = 401
) -> float:
    """Call until ten answers in a row are ``status`` ``code`` (new connections: both workers
    answer); how long after ``changed_at`` the last accepted answer came."""
    last_accepted, in_a_row = changed_at, 0
    deadline = changed_at + 3 * REFUSED_WITHIN_SECONDS
    while in_a_row < 10 and time.monotonic() < deadline:
        answer = call()
        if answer.status == status:
            assert answer.body["code"] == code
            in_a_row += 1
        else:
            last_accepted, in_a_row = time.monotonic(), 0
        time.sleep(0.05)
    assert in_a_row == 10, "still accepted long after the change"
    return last_accepted - changed_at


def _warm(call: Callable[[], ApiResponse], expected: int) -> None:
    for _ in range(12):  # every worker caches what it read
        assert call().status == expected


def test_a_revoked_key_is_refused_by_every_worker_within_5_s(web: str) -> None:
    created = _partner()
    client = AddonPartnerClient(web, created.api_key, created.signing_secret)
    me = lambda: client.get("/api/v1/me")  # noqa: E731
    _warm(me, 200)

    api_credential_revoke(credential=created.credential)
    changed_at = time.monotonic()
    assert _seconds_until_refused(me, "invalid_api_key", changed_at=changed_at) <= REFUSED_WITHIN_SECONDS


def test_a_rotated_out_secret_is_refused_by_every_worker_within_5_s(web: str) -> None:
    created = _partner()
    old = AddonPartnerClient(web, created.api_key, created.signing_secret)
    calls = iter(range(10**6))
    # signed POSTs (each its own body: no replay) that pass authentication and stop at the
    # missing Idempotency-Key (400)
    post_old = lambda: old.request("POST", CASH_INS, json={"n": next(calls)})  # noqa: E731
    _warm(post_old, 400)

    new = signing_secret_rotate(partner=created.partner, mode=Mode.TEST).secret
    assert signing_secret_revoke_previous(partner=created.partner, mode=Mode.TEST) == 1
    changed_at = time.monotonic()
    assert _seconds_until_refused(post_old, "invalid_signature", changed_at=changed_at) <= REFUSED_WITHIN_SECONDS
    fresh = AddonPartnerClient(web, created.api_key, new)
    for n in range(6):  # the new secret is known everywhere
        assert fresh.request("POST", CASH_INS, json={"fresh": n}).status == 400


def test_100_identical_cash_ins_together_move_money_once(web: str) -> None:
    seed(web)
    created = _partner()
    client = AddonPartnerClient(web, created.api_key, created.signing_secret, timeout=60)
    body = {"provider": "wave", "msisdn": "+221770000001", "amount": "1500", "currency": "XOF",
            "client_reference": "salary-42"}  # fmt: skip
    barrier, results = threading.Barrier(100), [None] * 100
    now = int(time.time())

    def send(index: int) -> None:
        barrier.wait()
        # each retry signed anew (its own t), as a partner's retry would be
        results[index] = client.request("POST", CASH_INS, json=body, idempotency_key="same-key", t=now - index)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    answers: list[ApiResponse] = [r for r in results if r is not None]
    assert len(answers) == 100
    assert {r.status for r in answers} <= {202, 409}, sorted({r.status for r in answers})
    originals = [r for r in answers if r.status == 202]
    assert len({r.content for r in originals}) == 1  # the original or its replay, byte for byte
    assert sum(1 for r in originals if r.headers.get("Idempotent-Replayed") != "true") == 1
    txn = Transaction.objects.get(partner=created.partner)
    assert Hold.objects.filter(transaction=txn).count() == 1
    assert OutboxEvent.objects.filter(aggregate_id=txn.public_id).count() == 1
    assert originals[0].body["id"] == txn.public_id
    assert ledger_check().is_ok


def _cash_in_call(web: str) -> tuple[PartnerCreated, Callable[[], ApiResponse]]:
    seed(web)
    created = _partner()
    client = AddonPartnerClient(web, created.api_key, created.signing_secret)
    calls = iter(range(10**6))

    def call() -> ApiResponse:
        n = next(calls)
        body = {"provider": "wave", "msisdn": "+221770000001", "amount": "1500", "currency": "XOF",
                "client_reference": f"cache-{n}"}  # fmt: skip
        return client.request("POST", CASH_INS, json=body, idempotency_key=f"cache-{time.time_ns()}-{n}")

    return created, call


def _refused_everywhere_after(call: Callable[[], ApiResponse], created: PartnerCreated, *, changed_at: float) -> None:
    """Once 5 s have passed since the change, every worker refuses and nothing more is created."""
    time.sleep(max(0.0, changed_at + REFUSED_WITHIN_SECONDS - time.monotonic()))
    accepted = Transaction.objects.filter(partner=created.partner).count()
    assert [call().status for _ in range(10)] == [422] * 10
    assert Transaction.objects.filter(partner=created.partner).count() == accepted


# The two tests below change what every other test of the module reads (a provider, a limit):
# they come last, and put it back.


def test_a_partner_limit_set_is_applied_by_every_worker_within_5_s(web: str) -> None:
    created, call = _cash_in_call(web)
    _warm(call, 202)  # both workers have read "no limit" for this partner

    PartnerLimit.objects.create(
        partner=created.partner, mode=Mode.TEST, rail="mobile_money", currency="XOF", max_per_transaction_minor=1000
    )
    changed_at = time.monotonic()
    seconds = _seconds_until_refused(call, "limit_exceeded", changed_at=changed_at, status=422)
    assert seconds <= REFUSED_WITHIN_SECONDS
    _refused_everywhere_after(call, created, changed_at=changed_at)


def test_a_disabled_provider_is_refused_by_every_worker_within_5_s(web: str) -> None:
    created, call = _cash_in_call(web)
    _warm(call, 202)
    try:
        assert provider_enable(provider="wave", enabled=False, mode=Mode.TEST) == 1
        changed_at = time.monotonic()
        seconds = _seconds_until_refused(call, "provider_disabled", changed_at=changed_at, status=422)
        assert seconds <= REFUSED_WITHIN_SECONDS
        _refused_everywhere_after(call, created, changed_at=changed_at)
    finally:
        provider_enable(provider="wave", enabled=True, mode=Mode.TEST)


def test_callbacks_of_a_disabled_connection_are_refused_by_every_worker_within_5_s(web: str) -> None:
    """Callbacks verify against the enabled connections each worker keeps a few seconds
    (mobilemoney/connectors.py): once Wave's are disabled, its signature verifies nowhere."""
    seed(web)
    events = iter(range(10**6))

    def call() -> ApiResponse:
        body = json.dumps({"id": f"EV_cache{time.time_ns()}-{next(events)}", "type": "checkout.session.completed",
                           "data": {"id": "cos-cache", "checkout_status": "complete"}}).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", "Wave-Signature": wave_signature(WAVE_WEBHOOK_SECRET, body)}
        request = urllib.request.Request(f"{web}/callbacks/wave", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, headers, content = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as refused:
            status, headers, content = refused.code, refused.headers, refused.read()
        return ApiResponse(status, headers, json.loads(content), content)

    _warm(call, 200)
    try:
        assert provider_enable(provider="wave", enabled=False) >= 1  # test and live: one URL for both
        changed_at = time.monotonic()
        seconds = _seconds_until_refused(call, "invalid_signature", changed_at=changed_at, status=401)
        assert seconds <= REFUSED_WITHIN_SECONDS
        time.sleep(max(0.0, changed_at + REFUSED_WITHIN_SECONDS - time.monotonic()))
        assert [call().status for _ in range(10)] == [401] * 10
    finally:
        provider_enable(provider="wave", enabled=True)
