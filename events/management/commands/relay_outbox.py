"""``manage.py relay_outbox``: the long-running outbox relay (stops cleanly on SIGTERM/SIGINT).

``--follow`` is how production runs it (deploy/systemd/addon-partner-relay.service, the Procfile):
woken by the writers' ``NOTIFY`` as soon as they commit, with a fallback poll every ``--interval``
seconds (events/follower.py). Without it, a pass every ``--interval`` seconds when idle.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from events.follower import DEFAULT_POLL_INTERVAL, FollowerStop, relay_follow
from events.kafka import reset_producer
from events.relay import DEFAULT_BATCH_SIZE, RelayOutcome, relay_outbox_once

POLL_INTERVAL = 1.0  # seconds between passes when idle, without --follow


class Command(BaseCommand):
    help = "Publish outbox events to Kafka and hand them to partner webhooks, until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help=f"seconds between passes when idle (default {POLL_INTERVAL}; "
            f"with --follow, the fallback poll between notifications, default {DEFAULT_POLL_INTERVAL})",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--follow", action="store_true", help="pass as soon as outbox rows are committed (LISTEN/NOTIFY)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = FollowerStop()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self._say("relay_outbox started")
        try:
            if options["follow"]:
                relay_follow(
                    stop=stop,
                    batch_size=options["batch_size"],
                    poll_interval=options["interval"] or DEFAULT_POLL_INTERVAL,
                    on_listening=lambda: self._say("relay_outbox listening"),
                )
            else:
                self._poll(stop, batch_size=options["batch_size"], once=options["once"], interval=options["interval"])
        finally:
            reset_producer(flush_timeout=5.0)
            stop.close()
            self._say("relay_outbox stopped")

    def _poll(self, stop: FollowerStop, *, batch_size: int, once: bool, interval: float | None) -> None:
        while not stop.is_set():
            close_old_connections()
            outcome = relay_outbox_once(batch_size=batch_size)
            self._report(outcome)
            if once:
                break
            # a full batch means more is waiting: go on at once; otherwise wait (interruptibly)
            if outcome.claimed < batch_size or outcome.waiting:
                stop.wait(interval or POLL_INTERVAL)

    def _report(self, outcome: RelayOutcome) -> None:
        if outcome.published:
            self._say(f"published {outcome.published} waiting {outcome.waiting}")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
