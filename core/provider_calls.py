"""Provider call records: a row written before every provider call and completed after it.

``core`` owns the mechanism but no model (docs/architecture.md §2: core has no models): the ledger installs
a ``CallRecorder`` at start-up (``install_recorder``) that stores rows linked to transactions.
Who is calling is carried by a context variable, the *call scope*: the connector registry opens
one per built connector (rail, provider, mode), and the execution code narrows it to one movement
(``call_scope(reference=…, transaction_id=…)``). Calls made outside any scope (partner webhooks,
the sandbox's own callbacks) are not provider calls and are not recorded.

``provider_call`` wraps one attempt: the HTTP client wraps every request in it, and connectors
that talk through an SDK (Firebase) wrap each SDK call. The outcome of the record follows the
typed errors of ``core.errors``: ``ProviderRejected`` → rejected, ``ProviderUnavailable`` →
unavailable, ``ProviderOutcomeUnknown`` (a timeout, a lost connection) → unknown, no error → ok.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from core.errors import ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

logger = logging.getLogger("core.provider_calls")


class CallOutcome(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CallScope:
    """Who is calling: the rail and provider connection, and the movement it is about."""

    rail: str = ""
    provider: str = ""
    mode: str = ""
    reference: str = ""
    transaction_id: int | None = None


@dataclass
class CallAttempt:
    """One attempt as it is being made; the caller may note the HTTP status as it learns it."""

    scope: CallScope
    operation: str
    http_status: int | None = None
    # What the answer means when no typed error was raised (e.g. a 4xx the connector reads itself).
    answered: CallOutcome | None = None
    handle: Any = None  # the recorder's row id


@dataclass(frozen=True)
class CallResult:
    outcome: CallOutcome
    http_status: int | None
    latency_ms: int
    error_code: str
    retryable: bool | None


class CallRecorder(Protocol):
    def start(self, attempt: CallAttempt) -> Any: ...

    def finish(self, handle: Any, result: CallResult) -> None: ...


_scope: ContextVar[CallScope | None] = ContextVar("provider_call_scope", default=None)
_recorder: CallRecorder | None = None


def install_recorder(recorder: CallRecorder | None) -> None:
    """Set the store of call records (the ledger's, from its AppConfig.ready)."""
    global _recorder
    _recorder = recorder


def current_scope() -> CallScope | None:
    return _scope.get()


@contextmanager
def call_scope(**fields: Any) -> Iterator[CallScope]:
    """Narrow (or open) the call scope for the calls made inside the block."""
    base = _scope.get() or CallScope()
    scope = replace(base, **{name: value for name, value in fields.items() if value is not None})
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def classify(error: BaseException | None) -> tuple[CallOutcome, str, bool | None]:
    """(outcome, error code, retryable) of an attempt that raised ``error`` (None: it answered)."""
    if error is None:
        return CallOutcome.OK, "", None
    if isinstance(error, ProviderRejected):
        return CallOutcome.REJECTED, str(error.code), False
    if isinstance(error, ProviderUnavailable):
        return CallOutcome.UNAVAILABLE, str(error.code), True
    if isinstance(error, ProviderOutcomeUnknown):
        return CallOutcome.UNKNOWN, str(error.code), True
    if isinstance(error, ProviderError):
        return CallOutcome.REJECTED, str(error.code), error.retryable
    # Anything else escaping a call (a bug, an SDK error not mapped yet): the request may have left.
    return CallOutcome.UNKNOWN, type(error).__name__[:64], None


@contextmanager
def provider_call(*, operation: str, provider: str | None = None) -> Iterator[CallAttempt]:
    """Record one attempt (before and after) when a call scope is open and a recorder installed."""
    scope = _scope.get()
    recorder = _recorder
    if scope is None or recorder is None:
        yield CallAttempt(scope=scope or CallScope(), operation=operation)
        return
    if provider and not scope.provider:
        scope = replace(scope, provider=provider)
    attempt = CallAttempt(scope=scope, operation=operation)
    attempt.handle = _safely(recorder.start, attempt)
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield attempt
    except BaseException as exc:
        error = exc
        raise
    finally:
        outcome, code, retryable = classify(error)
        if error is None and attempt.answered is not None:
            outcome, retryable = attempt.answered, attempt.answered is not CallOutcome.REJECTED
            code = ""
            if attempt.answered is not CallOutcome.OK:
                code = f"http_{attempt.http_status}" if attempt.http_status is not None else str(attempt.answered)
            retryable = None if attempt.answered is CallOutcome.OK else retryable
        http_status = attempt.http_status
        if http_status is None and isinstance(error, ProviderError):
            http_status = error.http_status
        result = CallResult(
            outcome=outcome,
            http_status=http_status,
            latency_ms=round((time.perf_counter() - started) * 1000),
            error_code=code,
            retryable=retryable,
        )
        if attempt.handle is not None:
            _safely(recorder.finish, attempt.handle, result)


def _safely(function: Any, *args: Any) -> Any:
    """A record that cannot be written must never stop or change the call it describes."""
    try:
        return function(*args)
    except Exception:
        logger.exception("provider call record not written")
        return None
