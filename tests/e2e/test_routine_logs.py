"""Routine periodic work is DEBUG unless it did something (config/routine_logs.py, issue 16)."""

from __future__ import annotations

import logging

import pytest

from config.routine_logs import BEAT_SENDING, TASK_RECEIVED, TASK_SUCCEEDED, RoutineFilter


def record(name: str, msg: str, args: object = None, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord(name, level, __file__, 1, msg, None, None)
    rec.args = args  # type: ignore[assignment]  # Celery logs with one mapping of arguments
    rec.__dict__.update(extra)
    return rec


def succeeded(name: str, result: str) -> logging.LogRecord:
    args = {"name": name, "id": "1", "runtime": 0.01, "return_value": result}
    return record("celery.app.trace", TASK_SUCCEEDED, args)


@pytest.mark.parametrize(
    "rec",
    [
        record("celery.beat", BEAT_SENDING + " %s (%s)", ("events-relay-outbox", "events.relay_outbox")),
        record("celery.worker.strategy", TASK_RECEIVED, {"name": "mobilemoney.poll_cash_ins", "id": "1"}),
        succeeded("mobilemoney.poll_cash_ins", "0"),
        succeeded("events.relay_outbox", "{'claimed': 0, 'published': 0, 'waiting': 0}"),
        succeeded("events.relay_outbox", "None"),
        record("ledger.tasks", "purged expired idempotency records", deleted=0),
    ],
)
def test_routine_lines_are_lowered_to_debug_and_dropped_at_info(rec: logging.LogRecord) -> None:
    logging.getLogger(rec.name).setLevel(logging.INFO)
    assert RoutineFilter().filter(rec) is False
    assert (rec.levelno, rec.levelname) == (logging.DEBUG, "DEBUG")


@pytest.mark.parametrize(
    "rec",
    [
        succeeded("mobilemoney.poll_cash_ins", "3"),  # did something
        succeeded("events.relay_outbox", "{'claimed': 2, 'published': 2, 'waiting': 0}"),
        succeeded("mobilemoney.cash_in_send", "None"),  # not a periodic task
        record("celery.worker.strategy", TASK_RECEIVED, {"name": "mobilemoney.cash_in_send", "id": "1"}),
        record("ledger.tasks", "purged expired idempotency records", deleted=12),
        record("celery.beat", BEAT_SENDING + " %s (%s)", ("x", "y"), level=logging.WARNING),
    ],
)
def test_work_done_and_everything_else_keep_their_level(rec: logging.LogRecord) -> None:
    level = rec.levelno
    assert RoutineFilter().filter(rec) is True and rec.levelno == level


def test_lowered_lines_are_written_when_debug_is_on() -> None:
    logging.getLogger("celery.beat").setLevel(logging.DEBUG)
    try:
        assert RoutineFilter().filter(record("celery.beat", BEAT_SENDING + " %s (%s)", ("a", "b"))) is True
    finally:
        logging.getLogger("celery.beat").setLevel(logging.NOTSET)
