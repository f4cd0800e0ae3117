"""``manage.py relay_outbox``: the long-running outbox relay (stops cleanly on SIGTERM/SIGINT)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from events.kafka import reset_producer
from events.relay import DEFAULT_BATCH_SIZE, relay_outbox_once


class Command(BaseCommand):
    help = "Publish outbox events to Kafka and hand them to partner webhooks, until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes when idle")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("relay_outbox started", ending="\n")
        self.stdout.flush()
        try:
            while not stopping.is_set():
                close_old_connections()
                outcome = relay_outbox_once(batch_size=options["batch_size"])
                if outcome.published:
                    self.stdout.write(f"published {outcome.published} waiting {outcome.waiting}")
                    self.stdout.flush()
                if options["once"]:
                    break
                # a full batch means more is waiting: go on at once; otherwise wait (interruptibly)
                if outcome.claimed < options["batch_size"] or outcome.waiting:
                    stopping.wait(options["interval"])
        finally:
            reset_producer(flush_timeout=5.0)
            self.stdout.write("relay_outbox stopped")
            self.stdout.flush()
