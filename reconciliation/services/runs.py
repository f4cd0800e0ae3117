"""A reconciliation run: get the provider's record of a day, compare, keep the verdict and the
breaks with their lifecycle (docs/reports.md §3).

The record is fetched through the provider's connector (``day_record``) or imported from a file
staff received (a Niirpay settlement CSV, a bank's camt.053). A record that cannot be had whole
gives the verdict ``incomplete``: never ``reconciled``, and no break is concluded or resolved
from it. A break keeps a stable id for its day, provider, kind and reference: seen again on the
next run it is ``open`` (its age grows), gone it is ``resolved``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import ProviderError
from core.provider_records import DayRecord, RecordUnreadable
from ledger.models import Transaction
from ledger.services import transaction_flag_for_review
from ledger.states import Status
from partners.registry import connector_session
from partners.selectors import provider_connection_list
from reconciliation.models import (
    BreakKind,
    BreakState,
    ReconciliationBreak,
    ReconciliationMatch,
    ReconciliationRun,
    Verdict,
)
from reconciliation.services.matching import Comparison, Difference, Ours, compare

logger = logging.getLogger("reconciliation")

# Providers whose record's fee is the fee we booked on the transaction (Niirpay's quote fee);
# the others' fees are their own tariff on our float, not booked per transaction (docs/reports.md §3.2).
FEE_CHECKED_PROVIDERS = frozenset({"niirpay"})
MATCH_BATCH = 5000
ADJUSTED = "adjustment posting"  # the resolution of a break settled by an adjustment (adjustments.py)
UNKNOWN_QUEUE_STATUSES = (Status.UNKNOWN, Status.FAILED, Status.PROCESSING, Status.PENDING)


def business_day(day: date) -> tuple[datetime, datetime]:
    """[start, end) of ``day`` in the bank's time zone (Africa/Dakar)."""
    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return start, start + timedelta(days=1)


def ledger_rows(*, provider: str, mode: str, business_date: date) -> Iterator[Ours]:
    """Our transactions of the day through ``provider``, read in bulk (no model instances)."""
    start, end = business_day(business_date)
    rows = Transaction.objects.filter(provider=provider, mode=mode, created_at__gte=start, created_at__lt=end)
    fields = ("pk", "public_id", "provider_reference", "amount_minor", "fee_minor", "currency", "status")
    for values in rows.values_list(*fields).iterator(chunk_size=MATCH_BATCH):
        yield Ours(*values)


def record_fetch(*, provider: str, mode: str, business_date: date) -> tuple[DayRecord | None, str]:
    """The provider's record through its connector; ``(None, why)`` when it cannot be had."""
    connection = provider_connection_list(mode=mode, connector=provider).first()
    if connection is None:
        return None, f"no enabled {mode} connection for {provider}"
    try:
        with connector_session(connection) as connector:
            return connector.day_record(business_date), ""
    except (ProviderError, RecordUnreadable) as exc:
        logger.warning("record of %s for %s unavailable: %s", provider, business_date, exc)
        return None, f"{type(exc).__name__}: {exc}"[:500]


def break_id_of(*, provider: str, mode: str, business_date: date, difference: Difference) -> str:
    """Stable for the same difference on the same day: the kind and the references it is about."""
    ours, line = difference.ours, difference.line
    about = ours.public_id if ours is not None else ""
    if difference.kind in (BreakKind.MISSING_IN_LEDGER, BreakKind.DUPLICATE_AT_PROVIDER) and line is not None:
        about = f"{about}|{line.provider_reference}|{line.reference}"
    key = f"{provider}|{mode}|{business_date.isoformat()}|{difference.kind}|{about}"
    return "brk_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _break_values(difference: Difference) -> dict[str, object]:
    ours, line = difference.ours, difference.line
    return {
        "kind": difference.kind,
        "transaction_id": ours.pk if ours else None,
        "reference": ours.public_id if ours else (line.reference if line else ""),
        "provider_reference": line.provider_reference if line else (ours.provider_reference if ours else ""),
        "currency": ours.currency if ours else (line.money.currency if line else ""),
        "ledger_amount_minor": ours.amount_minor if ours else None,
        "provider_amount_minor": line.money.minor if line else None,
        "ledger_fee_minor": ours.fee_minor if ours else None,
        "provider_fee_minor": line.fee_minor if line else None,
        "ledger_status": ours.status if ours else "",
        "provider_status": str(line.status) if line else "",
    }


def _keep_breaks(run: ReconciliationRun, comparison: Comparison, *, resolve_absent: bool) -> None:
    """Create the new breaks, mark the ones seen before open and, from a whole record only,
    resolve the ones no longer found."""
    now = run.finished_at
    day = {"provider": run.provider, "mode": run.mode, "business_date": run.business_date}
    found = {
        break_id_of(provider=run.provider, mode=run.mode, business_date=run.business_date, difference=d): d
        for d in comparison.differences
    }
    existing = set(ReconciliationBreak.objects.filter(break_id__in=list(found)).values_list("break_id", flat=True))
    new = [
        ReconciliationBreak(
            break_id=break_id, **day, **_break_values(d), first_run=run, last_run=run, first_seen_at=now
        )
        for break_id, d in found.items()
        if break_id not in existing
    ]
    ReconciliationBreak.objects.bulk_create(new, batch_size=MATCH_BATCH)
    # a break resolved by an adjustment posting stays resolved: the books were corrected
    ReconciliationBreak.objects.filter(break_id__in=list(existing)).exclude(resolution__startswith=ADJUSTED).update(
        state=BreakState.OPEN, last_run=run, resolved_at=None, resolution=""
    )
    if resolve_absent:
        ReconciliationBreak.objects.filter(**day).exclude(break_id__in=list(found)).exclude(
            state=BreakState.RESOLVED
        ).update(state=BreakState.RESOLVED, resolved_at=now, resolution=f"not found again by run {run.pk}")


def _to_unknown_queue(comparison: Comparison, provider: str) -> None:
    """Ours not final (or failed) while the provider says paid: staff must look (the unknown queue)."""
    for difference in comparison.differences:
        ours = difference.ours
        if difference.kind == BreakKind.STATUS_DIFFERS and ours is not None and ours.status in UNKNOWN_QUEUE_STATUSES:
            transaction_flag_for_review(
                transaction_pk=ours.pk,
                reason=f"reconciliation: {provider} reports it {difference.line.status}",  # type: ignore[union-attr]
            )


def reconciliation_run(
    *, provider: str, mode: str, business_date: date, record: DayRecord | None = None, note: str = ""
) -> ReconciliationRun:
    """Reconcile one provider's business day. Without ``record`` it is fetched from the provider."""
    started_at = timezone.now()
    source = "imported" if record is not None else "fetched"
    if record is None and not note:
        record, note = record_fetch(provider=provider, mode=mode, business_date=business_date)
    if record is not None and not record.complete:
        note = note or record.note or "the provider's record is partial"
    ours = list(ledger_rows(provider=provider, mode=mode, business_date=business_date))
    complete = record is not None and record.complete
    comparison = compare(
        ours, record.lines if record else (), fee_checked=provider in FEE_CHECKED_PROVIDERS, complete=complete
    )
    if record is None:
        comparison = Comparison(in_flight=comparison.in_flight)  # nothing can be concluded without it
    counts = Counter(str(d.kind) for d in comparison.differences)
    verdict = Verdict.INCOMPLETE if not complete else (Verdict.BREAKS if counts else Verdict.RECONCILED)
    with db_transaction.atomic():
        run = ReconciliationRun.objects.create(
            provider=provider,
            mode=mode,
            business_date=business_date,
            source=source,
            verdict=verdict,
            note=note[:500],
            provider_lines=len(record.lines) if record else 0,
            ledger_transactions=len(ours),
            matched=len(comparison.matches),
            in_flight=comparison.in_flight,
            counts=dict(sorted(counts.items())),
            started_at=started_at,
            finished_at=timezone.now(),
        )
        ReconciliationMatch.objects.bulk_create(
            (
                ReconciliationMatch(
                    run=run,
                    transaction_id=row.pk,
                    provider_reference=line.provider_reference,
                    amount_minor=line.money.minor,
                    provider_fee_minor=line.fee_minor,
                    currency=line.money.currency,
                )
                for row, line in comparison.matches
            ),
            batch_size=MATCH_BATCH,
        )
        _keep_breaks(run, comparison, resolve_absent=complete)
        _to_unknown_queue(comparison, provider)
    logger.info("reconciliation of %s %s: %s %s", provider, business_date, verdict, dict(counts))
    return run


def reconciliation_run_all(*, business_date: date) -> list[ReconciliationRun]:
    """Reconcile every provider with an enabled connection, in every mode, for one day (beat).

    One provider's failure never stops the others: it is logged and the next one runs.
    """
    runs = []
    for mode, provider in (
        provider_connection_list().values_list("mode", "connector").distinct().order_by("mode", "connector")
    ):
        try:
            runs.append(reconciliation_run(provider=provider, mode=mode, business_date=business_date))
        except Exception:  # the item guard of docs/conventions.md §36, for a loop of providers
            logger.exception("reconciliation of %s (%s) for %s failed", provider, mode, business_date)
    return runs
