"""The load generator of the HTTP figures: an asyncio HTTP/1.1 client on raw sockets (the standard
library only, so its version is the repository's Python), keep-alive connections, requests
rendered as bytes by a factory (a signed cash-in is one HMAC and one ``json.dumps``: a few µs).

Two modes:
- ``closed_loop``: ``connections`` clients, each sending its next request when the previous one
  is answered, for ``seconds``: the server's maximum rate (P1, P7, P9);
- ``open_loop``: requests started on a fixed schedule (``rate`` per second) whatever the server
  does; a late answer does not delay the next request, and each latency runs from the request's
  scheduled time (no coordinated omission): the latency a partner sees at that load (P2, P10).

One event loop drives thousands of requests per second from a fraction of one core, where a
thread pool of blocking clients would contend for the very CPU it measures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# (method, path with query, headers, body) → the bytes of one request
RequestFactory = Callable[[int], bytes]


def http_request(method: str, target: str, headers: dict[str, str], body: bytes = b"", *, host: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Run:
    """What a run measured: answers by status, latencies in seconds, wall time."""

    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    transport_errors: int = 0

    @classmethod
    def merged(cls, runs: list[Run]) -> Run:
        """Several runs as one: their answers, latencies and wall times added up."""
        total = cls()
        for run in runs:
            total.seconds += run.seconds
            for status, n in run.statuses.items():
                total.statuses[status] = total.statuses.get(status, 0) + n
            total.latencies.extend(run.latencies)
            total.transport_errors += run.transport_errors
        return total

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def errors(self, expected: int) -> int:
        return self.transport_errors + sum(n for status, n in self.statuses.items() if status != expected)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def summary(self, expected: int) -> dict[str, Any]:
        return {
            "requests": self.count,
            "per_s": round(self.rate(), 1),
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "errors": self.errors(expected),
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "transport_errors": self.transport_errors,
        }


# gunicorn closes a keep-alive connection idle for 5 s (deploy/gunicorn.conf.py ``keepalive``); a
# client sending on it as the server closes it sees its request lost, an error of neither side's
# making. Like a client's connection pool, the open loop retires connections idle this long.
IDLE_LIMIT_SECONDS = 4.0


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = time.perf_counter()

    def stale(self) -> bool:
        """Idle long enough for the server to be closing it, or closed by the server already."""
        idle = time.perf_counter() - self.last_used > IDLE_LIMIT_SECONDS
        return idle or (self.reader is not None and self.reader.at_eof())

    async def exchange(self, request: bytes) -> int:
        """Send one request and read its whole answer; its status (reconnects when closed)."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        self.last_used = time.perf_counter()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def timed(self, request: bytes, run: Run, since: float) -> bool:
        """One exchange recorded in ``run`` (latency from ``since``); False on a transport error."""
        try:
            status = await self.exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            run.transport_errors += 1
            self.close()
            return False
        run.latencies.append(time.perf_counter() - since)
        run.statuses[status] = run.statuses.get(status, 0) + 1
        return True


# Each gunicorn worker serves the keep-alive connections it accepted. Opened together, the closed
# loop's connections are split between the workers as their accepts race: on successive starts of
# the same server one worker took most of them and the other idled (the health view measured
# 1,690 and 3,590 requests/s). A client renews its connection every REQUESTS_PER_CONNECTION
# requests, as pooling clients and proxies do, so the split is drawn again many times a second
# and a measure is of both workers.
REQUESTS_PER_CONNECTION = 50


async def _closed(host: str, port: int, factory: RequestFactory, connections: int, seconds: float) -> Run:
    run = Run()
    counter = iter(range(10**12))
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        connection = _Connection(host, port)
        sent = 0
        while time.perf_counter() < stop_at:
            request = factory(next(counter))
            await connection.timed(request, run, time.perf_counter())
            sent += 1
            if sent % REQUESTS_PER_CONNECTION == 0:
                connection.close()  # the next request opens a new one
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    run.seconds = time.perf_counter() - started
    return run


async def _open(host: str, port: int, factory: RequestFactory, rate: float, seconds: float) -> Run:
    run = Run()
    idle: list[_Connection] = []
    pending: set[asyncio.Task[None]] = set()

    def connection_to_use() -> _Connection:
        while idle:
            connection = idle.pop()
            if not connection.stale():
                return connection
            connection.close()
        return _Connection(host, port)

    async def one(index: int, scheduled: float) -> None:
        connection = connection_to_use()
        if await connection.timed(factory(index), run, scheduled):
            idle.append(connection)

    interval = 1.0 / rate
    started = time.perf_counter()
    total = int(rate * seconds)
    for index in range(total):
        scheduled = started + index * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending, timeout=60)
    run.seconds = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return run


def closed_loop(base_url: str, factory: RequestFactory, *, connections: int, seconds: float) -> Run:
    """The maximum rate: ``connections`` keep-alive clients back to back for ``seconds`` (each
    renewing its connection every ``REQUESTS_PER_CONNECTION`` requests)."""
    host, port = _address(base_url)
    return asyncio.run(_closed(host, port, factory, connections, seconds))


def open_loop(base_url: str, factory: RequestFactory, *, rate: float, seconds: float) -> Run:
    """``rate`` requests per second on schedule for ``seconds``; latency from the scheduled time."""
    host, port = _address(base_url)
    return asyncio.run(_open(host, port, factory, rate, seconds))


def _address(base_url: str) -> tuple[str, int]:
    hostport = base_url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = hostport.partition(":")
    return host, int(port or 80)
