"""The transaction state machine (docs/architecture.md §4): every allowed status change, in one place.

```
pending    → processing | failed | cancelled | expired
processing → succeeded | failed | unknown | expired
unknown    → succeeded | failed
succeeded  → reversed
failed, reversed, cancelled, expired: final
```

``pending → failed`` is allowed beyond the DESIGN list on purpose: a provider (or our own
pre-flight check in the worker) can refuse a request synchronously, before the worker ever
recorded ``processing``; forcing a detour through ``processing`` would write a state that never
existed. ``pending → succeeded`` and ``unknown → expired`` are NOT allowed: success is only
learnt while processing, and an unknown outcome is resolved by asking the provider, never by
giving up on it (money may have moved).

Final states never change; ``succeeded`` changes only to ``reversed``. The transition service
(``ledger.services.transactions.transaction_transition``) applies this table with a conditional
``UPDATE … WHERE status IN (allowed sources)``.
"""

from __future__ import annotations

from django.db import models

from core.errors import IllegalTransition


class Status(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REVERSED = "reversed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Cause(models.TextChoices):
    """Who or what moved a transaction (recorded on every event)."""

    API = "api"
    WORKER = "worker"
    CALLBACK = "callback"
    POLLER = "poller"
    STAFF = "staff"


INITIAL = Status.PENDING

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.PROCESSING, Status.CANCELLED, Status.EXPIRED, Status.FAILED}),
    Status.PROCESSING: frozenset({Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN, Status.EXPIRED}),
    Status.UNKNOWN: frozenset({Status.SUCCEEDED, Status.FAILED}),
    Status.SUCCEEDED: frozenset({Status.REVERSED}),
    Status.FAILED: frozenset(),
    Status.REVERSED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}

# No way out, ever. ``succeeded`` is not final (it may still be reversed) but it is settled.
FINAL: frozenset[Status] = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
# The hold of the transaction is released when it enters one of these.
RELEASES_HOLD: frozenset[Status] = frozenset({Status.FAILED, Status.CANCELLED, Status.EXPIRED})


def is_allowed(from_status: str, to_status: str) -> bool:
    try:
        return Status(to_status) in TRANSITIONS[Status(from_status)]
    except ValueError:
        return False


def sources_of(to_status: str) -> frozenset[Status]:
    """The statuses from which ``to_status`` may be entered (the ``status IN (…)`` of the update)."""
    return frozenset(source for source, targets in TRANSITIONS.items() if to_status in targets)


def check(from_status: str, to_status: str) -> None:
    """Raise ``IllegalTransition`` unless ``from_status → to_status`` is in the table."""
    if not is_allowed(from_status, to_status):
        raise IllegalTransition(
            f"A transaction cannot go from {from_status!r} to {to_status!r}.",
            extra={"from_status": from_status, "to_status": to_status},
        )


def all_pairs() -> list[tuple[Status, Status]]:
    """Every ordered pair of statuses (the tests walk all of them)."""
    return [(a, b) for a in Status for b in Status]
