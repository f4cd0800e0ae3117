"""A small TCP proxy of the tests' own, to put faults between the gateway and one of its peers
(a sandbox provider, PostgreSQL, Redis): issue 17, item 3.

The proxy listens on a free loopback port and forwards every connection to the peer. Each new
connection takes the next planned ``Fault`` (``plan``), else the default one (``always``):

- ``PASS``: forward untouched;
- ``LATENCY``: forward, each chunk delayed by ``latency`` seconds;
- ``DROP_BEFORE_REQUEST``: close the client's connection at once, before anything reaches the peer;
- ``DROP_AFTER_REQUEST``: forward the request, let the peer act on it, and close the client's
  connection when the peer answers: the answer is lost;
- ``RESET_MID_RESPONSE``: forward the request and the first bytes of the answer, then reset;
- ``RESET_AFTER_MATCH``: forward untouched until a client chunk contains ``match`` (say the
  ``COMMIT`` of a PostgreSQL session), after one that contained ``after`` if given (the
  ``INSERT`` of the row that matters): forward that chunk too, so the peer acts on it, then
  reset the client's connection instead of passing the peer's answer on. Once only (``once``).

``down()`` makes the peer unreachable (open connections cut, new ones reset) until ``up()``.
Counters say how many connections were seen and how many faults were injected, so a test can
assert that its fault really happened.
"""

from __future__ import annotations

import contextlib
import enum
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

CHUNK = 65536


class Fault(enum.Enum):
    PASS = "pass"
    LATENCY = "latency"
    DROP_BEFORE_REQUEST = "drop_before_request"
    DROP_AFTER_REQUEST = "drop_after_request"
    RESET_MID_RESPONSE = "reset_mid_response"
    RESET_AFTER_MATCH = "reset_after_match"


@dataclass
class Plan:
    fault: Fault = Fault.PASS
    latency: float = 0.0
    match: bytes = b""
    after: bytes = b""  # RESET_AFTER_MATCH: look for ``match`` only after a chunk with this
    once: bool = True  # RESET_AFTER_MATCH: one connection is reset, then the plan passes
    response_bytes: int = 16  # RESET_MID_RESPONSE: how much of the answer gets through
    fired: bool = False


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a crashed peer or a cut line does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@dataclass
class FaultProxy:
    peer_host: str
    peer_port: int
    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    faults_injected: int = 0
    _planned: deque[Plan] = field(default_factory=deque)
    _default: Plan = field(default_factory=Plan)
    _listener: socket.socket | None = None
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False
    _is_down: bool = False

    # ---- control ---------------------------------------------------------------------------

    def plan(self, fault: Fault, *, times: int = 1, **options: object) -> None:
        """The next ``times`` connections get ``fault``."""
        with self._lock:
            self._planned.extend(Plan(fault, **options) for _ in range(times))  # type: ignore[arg-type]

    def always(self, fault: Fault, **options: object) -> None:
        """Every connection without a planned fault gets ``fault`` (PASS to heal)."""
        with self._lock:
            self._default = Plan(fault, **options)  # type: ignore[arg-type]

    def down(self) -> None:
        """The peer is gone: open connections are reset, new ones reset as soon as they arrive.
        (The port stays bound: a closed port could be taken meanwhile, by a client's own
        ephemeral port among others, and the proxy could not come back on it.)"""
        with self._lock:
            self._is_down = True
            open_now, self._open = set(self._open), set()
            self.faults_injected += 1
        for sock in open_now:
            _reset(sock)

    def up(self) -> None:
        with self._lock:
            self._is_down = False

    @contextlib.contextmanager
    def outage(self, seconds: float) -> Iterator[None]:
        """Down now, up again ``seconds`` later (in the background), whatever the block does."""
        self.down()
        timer = threading.Timer(seconds, self.up)
        timer.start()
        try:
            yield
        finally:
            timer.join()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # ---- life ------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._listen()
        return self

    def stop(self) -> None:
        self._stopped = True
        self.down()
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: down() or stop()
            with self._lock:
                if self._is_down:
                    _reset(client)
                    continue
                self.connections += 1
                plan = self._planned.popleft() if self._planned else self._default
            threading.Thread(target=self._serve, args=(client, plan), daemon=True).start()

    # ---- one connection --------------------------------------------------------------------

    def _count_fault(self) -> None:
        with self._lock:
            self.faults_injected += 1

    def _serve(self, client: socket.socket, plan: Plan) -> None:
        if plan.fault is Fault.DROP_BEFORE_REQUEST:
            self._count_fault()
            _reset(client)
            return
        try:
            peer = socket.create_connection((self.peer_host, self.peer_port), timeout=5)
        except OSError:
            _reset(client)
            return
        peer.settimeout(None)
        with self._lock:
            if self._is_down:
                _reset(client)
                _reset(peer)
                return
            self._open |= {client, peer}
        try:
            self._pump(client, peer, plan)
        except OSError:
            pass  # one side was cut (by a fault, or by down()): the connection is over
        finally:
            with self._lock:
                self._open -= {client, peer}
            for sock in (client, peer):
                with contextlib.suppress(OSError):
                    sock.close()

    def _pump(self, client: socket.socket, peer: socket.socket, plan: Plan) -> None:
        request_seen = False  # a client chunk went to the peer (DROP_AFTER_REQUEST, RESET_MID_RESPONSE)
        armed = False  # RESET_AFTER_MATCH: the matching chunk went to the peer
        after_seen = not plan.after
        while True:
            try:
                readable, _, _ = select.select([client, peer], [], [], 60)
            except (OSError, ValueError):
                return
            if not readable:
                return
            for source in readable:
                try:
                    data = source.recv(CHUNK)
                except OSError:
                    return
                if not data:
                    return
                if plan.fault is Fault.LATENCY:
                    if not request_seen:
                        self._count_fault()  # one delayed connection, one fault
                    time.sleep(plan.latency)
                if source is client:
                    peer.sendall(data)
                    request_seen = True
                    if plan.fault is Fault.RESET_AFTER_MATCH and not (plan.once and plan.fired):
                        after_seen = after_seen or plan.after in data
                        armed = armed or (after_seen and bool(plan.match) and plan.match in data)
                    continue
                # the peer answered
                if plan.fault is Fault.DROP_AFTER_REQUEST and request_seen:
                    self._count_fault()
                    _reset(client)
                    return
                if plan.fault is Fault.RESET_AFTER_MATCH and armed:
                    with self._lock:
                        if plan.once and plan.fired:
                            armed = False
                            client.sendall(data)
                            continue
                        plan.fired = True
                    self._count_fault()
                    _reset(client)
                    return
                if plan.fault is Fault.RESET_MID_RESPONSE and request_seen:
                    client.sendall(data[: plan.response_bytes])
                    self._count_fault()
                    _reset(client)
                    return
                client.sendall(data)
