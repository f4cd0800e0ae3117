"""The partner bank's pacs.002 status callbacks: stored raw first, verified, de-duplicated on
the message id, applied by a worker (DESIGN.md §3.7, STYLE.md §25).

Late, repeated and out-of-order messages never move a final transaction (the state machine
refuses it; ``apply_status`` swallows the refusal); a reference we do not know is kept and the
callback flagged ``unknown_reference`` for ops.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from banking.iso20022 import Iso20022Error
from banking.models import BankCallback, BankTransfer, CallbackStatus
from banking.providers.base import InterbankConnector, StatusMessageRejected
from banking.services.common import PARTNER_BANK, PARTNER_BANK_CODE, connector_for
from banking.services.transfers import apply_status
from core.errors import NotFound

MESSAGE_ID_HEADER = "X-Bank-Message-Id"
_KEPT_HEADERS = ("content-type", "x-bank-signature", "x-bank-message-id", "user-agent", "x-request-id")


def _verifying_connector(raw: bytes, headers: Mapping[str, str]) -> tuple[str, InterbankConnector] | None:
    """The mode and connector (live, else test connection) whose webhook secret signed ``raw``."""
    for mode in ("live", "test"):
        try:
            connector: InterbankConnector = connector_for(PARTNER_BANK_CODE, mode)
        except NotFound:
            continue
        try:
            connector.verify_status_message(raw, headers)
        except StatusMessageRejected:
            getattr(connector, "close", lambda: None)()
            continue
        return mode, connector
    return None


def callback_receive(*, raw: bytes, headers: Mapping[str, str]) -> tuple[BankCallback, int]:
    """Store, verify, de-duplicate; returns the row and the HTTP status to answer (200, or 401
    for a bad signature, 400 for an unreadable message). Queues ``callback_apply`` when new."""
    kept = {name: value for name, value in headers.items() if name.lower() in _KEPT_HEADERS}
    callback = BankCallback.objects.create(provider=PARTNER_BANK, body=raw, headers=kept)
    verified = _verifying_connector(raw, headers)
    if verified is None:
        _flag(callback, CallbackStatus.INVALID_SIGNATURE, "signature missing, wrong or outside the window")
        return callback, 401
    mode, connector = verified
    try:
        statuses = connector.parse_status_message(raw)
    except Iso20022Error as exc:
        _flag(callback, CallbackStatus.UNREADABLE, exc.detail)
        return callback, 400
    finally:
        getattr(connector, "close", lambda: None)()
    event_id = next((s.status_message_id for s in statuses if s.status_message_id), None)
    event_id = event_id or {k.lower(): v for k, v in headers.items()}.get(MESSAGE_ID_HEADER.lower())
    try:
        with db_transaction.atomic():
            BankCallback.objects.filter(pk=callback.pk).update(
                event_id=event_id, mode=mode, status=CallbackStatus.QUEUED
            )
            db_transaction.on_commit(lambda: _enqueue_apply(callback.pk))
    except IntegrityError:
        _flag(callback, CallbackStatus.DUPLICATE, f"message {event_id} already received")
        return callback, 200
    callback.event_id, callback.status = event_id, CallbackStatus.QUEUED
    return callback, 200


def _flag(callback: BankCallback, status: str, error: str) -> None:
    BankCallback.objects.filter(pk=callback.pk).update(status=status, error=error[:500])
    callback.status, callback.error = status, error[:500]


def _enqueue_apply(callback_pk: int) -> None:
    from banking.tasks import callback_apply_status

    callback_apply_status.delay(callback_pk)


def callback_apply(*, callback_id: int) -> str:
    """Apply a queued callback's statuses to our transfers; safe to run twice."""
    callback = BankCallback.objects.get(pk=callback_id)
    if callback.status != CallbackStatus.QUEUED:
        return callback.status
    connector: InterbankConnector = connector_for(PARTNER_BANK_CODE, callback.mode)
    try:
        statuses = connector.parse_status_message(bytes(callback.body))
    finally:
        getattr(connector, "close", lambda: None)()
    unknown = []
    for status in statuses:
        transfer = (
            BankTransfer.objects.select_related("transaction").filter(transaction__public_id=status.reference).first()
        )
        if transfer is None:
            unknown.append(status.reference)
            continue
        apply_status(
            transfer, status.status, status.reason_code, cause="callback", provider_reference=status.provider_reference
        )
    final = CallbackStatus.UNKNOWN_REFERENCE if unknown else CallbackStatus.APPLIED
    BankCallback.objects.filter(pk=callback.pk).update(
        status=final,
        applied_at=timezone.now(),
        error=("unknown references: " + ", ".join(unknown))[:500] if unknown else "",
    )
    return final
