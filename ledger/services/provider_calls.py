"""Provider call records, stored (the mechanism is ``core.provider_calls``).

The ledger installs ``LedgerCallRecorder`` at start-up; execution code opens
``calls_about(transaction)`` around the provider calls it makes for one movement, so every
attempt is linked to its transaction and our reference. Rows older than
``PROVIDER_CALL_RETENTION_DAYS`` are purged by a beat task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.provider_calls import CallAttempt, CallResult, CallScope, call_scope
from ledger.models import ProviderCall, Transaction

PURGE_BATCH = 5000


class LedgerCallRecorder:
    """Writes a row before the call (autocommit: it survives whatever the call does) and
    completes it after."""

    def start(self, attempt: CallAttempt) -> int:
        scope = attempt.scope
        row = ProviderCall.objects.create(
            rail=scope.rail[:20],
            provider=scope.provider[:40],
            mode=scope.mode,
            operation=attempt.operation[:60],
            reference=scope.reference[:120],
            transaction_id=scope.transaction_id,
            started_at=timezone.now(),
        )
        return row.pk

    def finish(self, handle: Any, result: CallResult) -> None:
        ProviderCall.objects.filter(pk=handle).update(
            completed_at=timezone.now(),
            http_status=result.http_status,
            latency_ms=result.latency_ms,
            outcome=result.outcome,
            error_code=result.error_code[:64],
            retryable=result.retryable,
        )


@contextmanager
def calls_about(transaction: Transaction, *, reference: str | None = None) -> Iterator[CallScope]:
    """Link the provider calls made inside the block to ``transaction`` (and our reference)."""
    with call_scope(reference=reference or transaction.public_id, transaction_id=transaction.pk) as scope:
        yield scope


def provider_calls_purge(*, now: Any = None) -> int:
    """Delete call records past the retention (in slices, so a large purge holds no long lock)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PROVIDER_CALL_RETENTION_DAYS)
    deleted = 0
    while True:
        pks = list(ProviderCall.objects.filter(started_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH])
        if not pks:
            return deleted
        deleted += ProviderCall.objects.filter(pk__in=pks).delete()[0]
