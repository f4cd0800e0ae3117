"""The relay's follower (``manage.py relay_outbox --follow``): relay passes as soon as outbox rows
are committed, instead of every few seconds on the beat (docs/architecture.md §4 "Outbox").

It ``LISTEN``s on ``OUTBOX_CHANNEL`` over a connection of its own; the writers of outbox rows send
one ``NOTIFY`` after their commit (``ledger.services.outbox.outbox_notify_on_commit``), and
PostgreSQL delivers it to every listener. Between notifications it still runs a pass every
``poll_interval`` seconds (the fallback poll: a writer that crashed between its commit and its
notify, a listening connection being re-made). A full batch is followed by the next pass at once.

- Every pass is ``relay_outbox_once``: its guarantees (advisory lock, order per aggregate, only
  acknowledged rows marked, at least once) are the relay's, whoever runs it; the beat task keeps
  running as the safety net, and a pass that finds the lock taken (the beat's pass) is retried
  shortly, since the notification that woke this one has been consumed.
- A dropped database connection (either of the two) is logged and made again on the next turn;
  rows wait in the table meanwhile, so nothing is lost.
- ``FollowerStop.set()`` (the command's SIGTERM/SIGINT handler, or a test's thread) ends the loop
  after the pass under way, waking a follower that waits for a notification at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading
from collections.abc import Callable

import psycopg
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from events.kafka import KafkaDisabled, get_producer
from events.relay import DEFAULT_BATCH_SIZE, RelayOutcome, relay_outbox_once
from ledger.services.outbox import OUTBOX_CHANNEL

logger = logging.getLogger("events.follower")

DEFAULT_POLL_INTERVAL = 5.0  # seconds between passes when no notification comes
LOCK_RETRY_SECONDS = 0.05  # another pass holds the relay lock: try again this soon
RECONNECT_SECONDS = 1.0  # the database went away: wait this long before the next attempt


class FollowerStop:
    """Asks a follower to stop; also wakes it from its wait on the listening socket (self-pipe)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)

    def set(self) -> None:
        """Safe from a signal handler: sets a flag and writes one byte."""
        self._event.set()
        with contextlib.suppress(BlockingIOError):  # the pipe is full: the follower is being woken
            os.write(self._write_fd, b"x")

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> None:
        self._event.wait(seconds)

    def fileno(self) -> int:
        return self._read_fd

    def close(self) -> None:
        os.close(self._read_fd)
        os.close(self._write_fd)


class OutboxListener:
    """The follower's listening connection: made (again) on demand, ``LISTEN`` on the channel."""

    def __init__(self) -> None:
        self._connection: psycopg.Connection | None = None

    @property
    def is_listening(self) -> bool:
        return self._connection is not None

    def ensure(self) -> None:
        """Connect and ``LISTEN`` when not listening; a failure is logged and the follower polls."""
        if self._connection is not None:
            return
        try:
            # configured like Django's own connection (same database, options), but not Django's
            raw = connection.get_new_connection(connection.get_connection_params())
            raw.autocommit = True
            raw.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except psycopg.Error as exc:  # raw psycopg: Django wraps only its own connection's errors
            logger.warning("outbox listener could not connect (%s); polling until it can", exc)
            return
        self._connection = raw
        logger.info("outbox listener listening on %s", OUTBOX_CHANNEL)

    def wait(self, seconds: float, stop: FollowerStop) -> bool:
        """Wait up to ``seconds`` for a notification (or a stop); answer whether one came.
        Notifications that arrived meanwhile are all consumed: one pass serves them all."""
        if self._connection is None:
            stop.wait(seconds)
            return False
        with selectors.DefaultSelector() as selector:
            selector.register(self._connection.fileno(), selectors.EVENT_READ)
            selector.register(stop.fileno(), selectors.EVENT_READ)
            selector.select(seconds)
        try:
            return bool(list(self._connection.notifies(timeout=0)))
        except psycopg.Error as exc:
            logger.warning("outbox listener lost its connection (%s); reconnecting", exc)
            self.close()
            return False

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def kafka_warm_up() -> None:
    """Create the producer as the follower starts: it connects and gets its idempotent producer id
    in its own threads while nothing waits, instead of during the first pass (half a second on the
    first event, measured against the mock cluster). Switched off: nothing to do."""
    with contextlib.suppress(KafkaDisabled):
        get_producer()


def _relay_pass(batch_size: int) -> RelayOutcome | None:
    """One pass; ``None`` when the database connection dropped (closed, made again next time)."""
    close_old_connections()
    try:
        return relay_outbox_once(batch_size=batch_size)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("outbox relay lost its database connection (%s); reconnecting", exc)
        connection.close()
        return None


def _pause_after(outcome: RelayOutcome, batch_size: int, poll_interval: float) -> tuple[float, bool]:
    """How long to wait before the next pass, and whether a notification may cut the wait short."""
    if outcome.lock_busy:
        return LOCK_RETRY_SECONDS, False
    if outcome.waiting:  # Kafka refuses rows: retry on the poll, not on every commit
        return poll_interval, False
    if outcome.claimed >= batch_size:
        return 0.0, False
    return poll_interval, True


def relay_follow(
    *,
    stop: FollowerStop,
    batch_size: int = DEFAULT_BATCH_SIZE,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_pass: Callable[[RelayOutcome], None] | None = None,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Run relay passes until ``stop`` is set: at once when notified, at the latest every
    ``poll_interval`` seconds (module docstring). ``on_listening`` is called each time the
    listening connection is (re)made, before the pass that follows it."""
    listener = OutboxListener()
    kafka_warm_up()
    try:
        while not stop.is_set():
            if not listener.is_listening:
                listener.ensure()
                if listener.is_listening and on_listening is not None:
                    on_listening()
            outcome = _relay_pass(batch_size)
            if outcome is None:
                stop.wait(RECONNECT_SECONDS)
                continue
            if on_pass is not None:
                on_pass(outcome)
            pause, notifiable = _pause_after(outcome, batch_size, poll_interval)
            if notifiable:
                listener.wait(pause, stop)
            elif pause:
                stop.wait(pause)
    finally:
        listener.close()
