"""Inbound provider callbacks (docs/architecture.md §3, step 7, §4): stored raw, verified, de-duplicated, applied.

``callback_receive`` runs in the request (fast: two statements, no provider call, the enabled
connections read from the process's short cache);
``callback_apply`` runs in the ``mobilemoney.callback_apply`` task on the callbacks queue.

``addon_callbacks_total{provider,outcome}`` counts, once committed: every delivery ``received``,
then ``rejected`` (bad signature), ``flagged`` (unreadable) or ``verified``; each event of a
verified delivery already stored ``duplicate``; each event applied ``applied``, or ``flagged``
when it cannot be (docs/operations.md "Metrics").
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction as db_transaction
from django.utils import timezone

from core.db import insert_new
from core.metrics import callbacks_total
from core.raw_payloads import headers_redacted
from core.tasks import enqueue_on_commit
from ledger.services import item_guard
from ledger.states import Cause
from mobilemoney.connectors import callback_connections
from mobilemoney.models import CallbackStatus, CashIn, InboundCallback
from mobilemoney.providers.base import CallbackEvent, CashInResult, EventKind, OperationStatus
from mobilemoney.services.checkout import checkout_apply_event
from mobilemoney.services.outcomes import result_apply
from partners.registry import connector_session

logger = logging.getLogger("mobilemoney.callbacks")

APPLY_CHUNK = 200  # events per callback_apply task (a bulk payload is applied in chunks)


@dataclass(frozen=True)
class Received:
    verified: bool
    delivery_id: int
    event_ids: list[int]


def _count(provider: str, outcome: str, n: int = 1) -> None:
    """``addon_callbacks_total`` once the current DB transaction commits (at once outside one)."""
    if n > 0:
        db_transaction.on_commit(lambda: callbacks_total.labels(provider, outcome).inc(n))


def _event_json(event: CallbackEvent) -> dict[str, Any]:
    return {
        "kind": str(event.kind),
        "event_type": event.event_type,
        "reference": event.reference,
        "provider_reference": event.provider_reference,
        "status": str(event.status) if event.status else None,
        "amount_minor": event.money.minor if event.money else None,
        "currency": event.money.currency if event.money else None,
        "msisdn": event.msisdn,
        "provider_transaction_id": event.provider_transaction_id,
        "failure_code": event.failure_code,
        "provider_failure_code": event.provider_failure_code,
        "failure_message": event.failure_message,
    }


def _verify(provider: str, headers: Mapping[str, str], raw_body: bytes) -> tuple[str, list[CallbackEvent]] | None:
    """(mode, events) by the first connection whose secrets verify the delivery, else None."""
    now = time.time()
    for connection in callback_connections(provider):
        with connector_session(connection) as connector:
            if connector.verify_callback(headers, raw_body, now):
                return connection.mode, connector.parse_callback(headers, raw_body)
    return None


def callback_receive(*, provider: str, headers: Mapping[str, str], raw_body: bytes) -> Received:
    """Store the delivery, verify it, store each new event once; enqueue the apply after commit.

    Refused signatures are kept (``rejected``); a body that verifies but does not parse is kept
    ``flagged``. Events already stored (duplicates) are ignored by the unique constraint.
    """
    # stored with credential headers redacted; the signature is checked on ``headers`` as received
    delivery = InboundCallback.objects.create(provider=provider, raw_body=raw_body, headers=headers_redacted(headers))
    _count(provider, "received")
    try:
        verified = _verify(provider, headers, raw_body)
    except ValueError as exc:
        delivery.status, delivery.flag_reason = CallbackStatus.FLAGGED, f"unreadable: {exc}"[:200]
        delivery.save(update_fields=["status", "flag_reason"])
        _count(provider, "flagged")
        return Received(True, delivery.pk, [])
    if verified is None:
        delivery.status, delivery.flag_reason = CallbackStatus.REJECTED, "signature did not verify"
        delivery.save(update_fields=["status", "flag_reason"])
        logger.warning("callback refused", extra={"provider": provider, "callback": delivery.pk})
        _count(provider, "rejected")
        return Received(False, delivery.pk, [])
    mode, events = verified
    rows = [
        InboundCallback(
            provider=provider,
            mode=mode,
            delivery=delivery,
            event_id=event.event_id,
            event_type=event.event_type,
            raw_body=json.dumps(dict(event.raw), separators=(",", ":"), cls=DjangoJSONEncoder).encode(),
            headers={},
            event=_event_json(event),
        )
        for event in events
    ]
    # one statement: the delivery marked verified and each event not stored yet written (the
    # unique constraint on provider and event id skips the others); no transaction of its own
    fresh = insert_new(
        rows, update=(InboundCallback.objects.filter(pk=delivery.pk), {"status": CallbackStatus.VERIFIED, "mode": mode})
    )
    for start in range(0, len(fresh), APPLY_CHUNK):
        enqueue_on_commit("mobilemoney.callback_apply", fresh[start : start + APPLY_CHUNK])
    _count(provider, "verified")
    _count(provider, "duplicate", len(rows) - len(fresh))
    return Received(True, delivery.pk, fresh)


def _flag(row: InboundCallback, reason: str) -> None:
    row.status, row.flag_reason = CallbackStatus.FLAGGED, reason[:200]
    row.save(update_fields=["status", "flag_reason"])
    logger.warning("callback flagged", extra={"callback": row.pk, "reason": reason})
    _count(row.provider, "flagged")


def _apply_cash_in(row: InboundCallback) -> str | None:
    event = row.event
    cash_in = (
        CashIn.objects.select_related("transaction")
        .filter(transaction__public_id=event.get("reference") or "-", transaction__mode=row.mode, provider=row.provider)
        .first()
    )
    if cash_in is None:
        return "unknown reference"
    row.transaction_public_id = cash_in.transaction.public_id
    result = CashInResult(
        reference=cash_in.transaction.public_id,
        provider_reference=event.get("provider_reference"),
        status=OperationStatus(event["status"]) if event.get("status") else OperationStatus.PROCESSING,
        failure_code=event.get("failure_code"),
        failure_message=event.get("failure_message"),
    )
    result_apply(cash_in, result, cause=Cause.CALLBACK)
    return None


def _apply_one(row: InboundCallback) -> str | None:
    """Apply one event; returns a flag reason when it cannot be applied."""
    kind = row.event.get("kind")
    if kind == EventKind.CASH_IN:
        return _apply_cash_in(row)
    if kind == EventKind.CHECKOUT:
        return checkout_apply_event(row)
    return None  # an event this rail does not act on: acknowledged and kept


def callback_apply(pks: list[int]) -> int:
    """Apply stored events (safe to run twice: applied rows are skipped, transitions are
    compare-and-set and a terminal status never moves). Returns how many were applied."""
    applied = 0
    for row in InboundCallback.objects.filter(pk__in=pks, status=CallbackStatus.RECEIVED).order_by("pk"):
        reason: str | None = "could not be applied (see the log)"
        # One bad event never stops the others: an unexpected error is logged by the guard and
        # the row is flagged for staff (no transaction is set aside: the event may name none).
        with item_guard(work="mobilemoney.callback_apply", transaction=None, item=f"callback {row.pk}"):
            reason = _apply_one(row)
        if reason:
            _flag(row, reason)
            continue
        row.status, row.applied_at = CallbackStatus.APPLIED, timezone.now()
        row.save(update_fields=["status", "applied_at", "transaction_public_id"])
        _count(row.provider, "applied")
        applied += 1
    return applied
