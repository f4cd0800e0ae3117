"""Routine periodic work logs at DEBUG unless it did something (issue 16).

Beat sends a dozen periodic tasks every few seconds; at INFO each tick was three lines (beat's
"Sending due task", the worker's "received" and "succeeded"), 1.7 MB in 14 minutes, burying the
lines that matter. This filter, on the console handler (config/settings.py LOGGING), lowers to
DEBUG:

- celery beat's "Scheduler: Sending due task …" (every tick is routine);
- the worker's "Task <periodic task>[…] received";
- the worker's "Task <periodic task>[…] succeeded …: <result>" when the result says nothing was
  done (``None``, ``0``, an empty collection, or a mapping of counts that are all zero);
- any line whose ``deleted`` field is 0 (the purges' "purged … records").

A lowered line is written only if its logger is enabled for DEBUG (``LOG_LEVEL=DEBUG``). Errors,
warnings, failed tasks and periodic tasks that did work keep their level.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from django.conf import settings

BEAT_SENDING = "Scheduler: Sending due task"
TASK_RECEIVED = "Task %(name)s[%(id)s] received"
TASK_SUCCEEDED = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"
_NOTHING = {"None", "0", "{}", "[]", "()", "''", "False"}
_ALL_ZERO_COUNTS = re.compile(r"\{'[A-Za-z_]+': 0(?:, '[A-Za-z_]+': 0)*\}")


def did_nothing(return_value: object) -> bool:
    """Whether a task's result, as Celery logs it (a repr), says nothing was done."""
    text = str(return_value).strip()
    return text in _NOTHING or _ALL_ZERO_COUNTS.fullmatch(text) is not None


def periodic_task_names() -> frozenset[str]:
    return frozenset(entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values())


class RoutineFilter(logging.Filter):
    """Lowers routine periodic lines to DEBUG (and drops them unless DEBUG is enabled)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self.is_routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    @staticmethod
    def is_routine(record: logging.LogRecord) -> bool:
        if getattr(record, "deleted", None) == 0:
            return True
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith(BEAT_SENDING):
            return True
        args = record.args if isinstance(record.args, Mapping) else {}
        if message not in (TASK_RECEIVED, TASK_SUCCEEDED) or args.get("name") not in periodic_task_names():
            return False
        return message == TASK_RECEIVED or did_nothing(args.get("return_value"))
