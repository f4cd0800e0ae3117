"""The per-partner rate limit: atomic in Redis, shared by every thread, process and server."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from partners.guards import rate_limit_hit
from tests.partners.conftest import WHOAMI, client_for
from tests.processes import BIN, ROOT, free_port, process_env, stop, wait_for_http

pytestmark = [pytest.mark.urls("tests.partners.urls"), pytest.mark.django_db(transaction=True)]


def burst(client: AddonPartnerClient, count: int) -> list:  # type: ignore[type-arg]
    """``count`` GETs released at the same instant by a barrier; the responses."""
    return burst_many([client] * count)


def burst_many(clients: list[AddonPartnerClient]) -> list:  # type: ignore[type-arg]
    """One GET per client, all released at the same instant by a barrier; the responses."""
    barrier = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)  # type: ignore[type-arg]

    def call(index: int) -> None:
        barrier.wait()
        responses[index] = clients[index].get(WHOAMI)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_100_concurrent_requests_with_a_limit_of_50(live_server, make_partner) -> None:  # type: ignore[no-untyped-def]
    created = make_partner(scopes=["transactions.read"], rate_limit_per_minute=50)
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret, timeout=30)
    responses = burst(client, 100)  # the live server's small listen backlog makes some connects retry

    statuses = Counter(response.status for response in responses)
    assert statuses[200] <= 52
    assert statuses[200] == 50  # the sliding window is exact
    assert statuses[429] == 100 - statuses[200]
    for response in responses:
        if response.status == 429:
            assert response.body["code"] == "rate_limited"
            assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_the_limit_is_per_partner(live_server, make_partner) -> None:  # type: ignore[no-untyped-def]
    busy = make_partner(scopes=["transactions.read"], rate_limit_per_minute=2)
    quiet = make_partner(scopes=["transactions.read"], rate_limit_per_minute=2)
    busy_client = client_for(live_server, busy)
    assert [busy_client.get(WHOAMI).status for _ in range(3)] == [200, 200, 429]
    assert client_for(live_server, quiet).get(WHOAMI).status == 200


@contextmanager
def gunicorn_serving_test_views(log: Path, workers: int) -> Iterator[str]:
    """gunicorn (several worker processes) on tests/partners/urls.py, against the test database."""
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--workers", str(workers), "tests.partners.wsgi"],
        cwd=ROOT,
        env=process_env({"PORT": str(port), "WEB_THREADS": "8"}),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health/live")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        out.close()


def test_the_limit_is_shared_by_separate_gunicorn_servers(make_partner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two gunicorn servers (own master, own workers) behind no common process: only Redis is
    shared. A per-process counter would let 2 x 20 through."""
    created = make_partner(scopes=["transactions.read"], rate_limit_per_minute=20)
    with ExitStack() as stack:
        urls = [stack.enter_context(gunicorn_serving_test_views(tmp_path / f"g{n}.log", workers=2)) for n in (1, 2)]
        clients = [AddonPartnerClient(url, created.api_key, created.signing_secret, timeout=10) for url in urls]
        responses = burst_many([clients[i % 2] for i in range(40)])
    assert Counter(response.status for response in responses) == {200: 20, 429: 20}
    assert {response.headers["X-Served-By-Pid"] for response in responses if response.status == 200}


def test_a_request_leaves_the_window_after_it() -> None:
    assert [rate_limit_hit(key="window-test", limit=2, window_ms=1000).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    refused = rate_limit_hit(key="window-test", limit=2, window_ms=1000)
    assert 0 < refused.retry_after_seconds <= 1.0
    time.sleep(refused.retry_after_seconds + 0.05)
    assert rate_limit_hit(key="window-test", limit=2, window_ms=1000).allowed
