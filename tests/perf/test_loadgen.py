"""bench/loadgen.py: the open loop does not count as errors the requests it sends on keep-alive
connections the server has closed meanwhile (gunicorn closes idle ones after 5 s)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bench import loadgen

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture
def closing_server() -> Iterator[str]:
    """An HTTP server that answers, keeps the connection open 0.2 s, then closes it (a short keepalive)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=0.2)
                writer.write(ANSWER)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    yield from _serving(handle)


def _serving(handle: Any) -> Iterator[str]:
    """``handle`` serving on a free local port, on an event loop of its own thread; its base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    address: list[int] = []

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        address.append(server.sockets[0].getsockname()[1])
        started.set()
        async with server:
            await server.serve_forever()

    task = loop.create_task(serve())

    def run() -> None:
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass  # stopped by the fixture
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    yield f"http://127.0.0.1:{address[0]}"
    loop.call_soon_threadsafe(task.cancel)
    thread.join(5)


def _open_loop(base: str) -> loadgen.Run:
    """4 requests a second for 2 s, each finding the previous connection closed by the server 0.2 s
    after its answer; on a thread of its own (no event loop of another test is running there)."""
    request = loadgen.http_request("GET", "/", {}, host="127.0.0.1")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(loadgen.open_loop, base, lambda i: request, rate=4, seconds=2).result(timeout=60)


def test_connections_the_server_closed_are_not_reused(closing_server: str) -> None:
    run = _open_loop(closing_server)
    assert (run.statuses, run.transport_errors) == ({200: 8}, 0)


def test_without_the_check_those_requests_would_be_lost(closing_server: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What the test above guards against (else it could never fail)."""
    monkeypatch.setattr(loadgen._Connection, "stale", lambda self: False)
    assert _open_loop(closing_server).transport_errors > 0


def test_runs_merged_add_up_answers_latencies_and_time() -> None:
    first = loadgen.Run(seconds=2.0, statuses={202: 10, 500: 1}, latencies=[0.1] * 11, transport_errors=1)
    second = loadgen.Run(seconds=3.0, statuses={202: 20}, latencies=[0.2] * 20)
    merged = loadgen.Run.merged([first, second])
    assert (merged.seconds, merged.statuses, merged.transport_errors) == (5.0, {202: 30, 500: 1}, 1)
    assert merged.rate() == 31 / 5.0 and merged.errors(202) == 2 and len(merged.latencies) == 31
    assert first.statuses == {202: 10, 500: 1}  # the parts are left as they were


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[int]]]:
    """A keep-alive HTTP server that counts the connections it accepts."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    for base in _serving(handle):
        yield base, accepted


def test_the_closed_loop_renews_each_connection_after_a_number_of_requests(counting_server) -> None:  # type: ignore[no-untyped-def]
    """So that the server's workers, each keeping the connections it accepted, share the load."""
    base, accepted = counting_server
    request = loadgen.http_request("GET", "/", {}, host="127.0.0.1")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        run = pool.submit(loadgen.closed_loop, base, lambda i: request, connections=2, seconds=1).result(timeout=60)
    assert run.errors(200) == 0 and run.count > 4 * loadgen.REQUESTS_PER_CONNECTION
    # each client opened one connection per REQUESTS_PER_CONNECTION requests (not one for the run)
    assert len(accepted) >= run.count // loadgen.REQUESTS_PER_CONNECTION
