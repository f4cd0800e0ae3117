"""Carry the request id from the request that enqueues a task into the task's log lines.

The id travels as a message header (``request_id``), set when the task is published and
bound to the log context while the task runs.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from core.logging import partner_var, request_id_var, transaction_var
from core.metrics import celery_tasks_total

logger = logging.getLogger("core.tasks")
_TOKENS: dict[str, tuple[Any, Any, Any]] = {}


@signals.before_task_publish.connect
def _attach_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and "request_id" not in headers:
        request_id = request_id_var.get()
        if request_id:
            headers["request_id"] = request_id


@signals.task_prerun.connect
def _bind_request_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    request_id = getattr(getattr(task, "request", None), "request_id", None) or f"task_{task_id}"
    _TOKENS[task_id or ""] = (request_id_var.set(request_id), partner_var.set(None), transaction_var.set(None))


@signals.task_postrun.connect
def _unbind_request_id(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    tokens = _TOKENS.pop(task_id or "", None)
    if tokens:
        transaction_var.reset(tokens[2])
        partner_var.reset(tokens[1])
        request_id_var.reset(tokens[0])
    celery_tasks_total.labels(getattr(task, "name", "unknown"), (state or "unknown").lower()).inc()


@signals.setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Keep Django's LOGGING (JSON, masking) in workers instead of Celery's own."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
