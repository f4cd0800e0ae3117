"""The partner bank's pacs.002 status callbacks: stored raw first, verified, de-duplicated on
the message id, applied by a worker (docs/architecture.md §3, step 7, docs/conventions.md §25).

Late, repeated and out-of-order messages never move a final transaction (the state machine
refuses it; ``outcome_apply`` reads the refusal as "already settled"); a reference we do not know is kept and the
callback flagged ``unknown_reference`` for ops.

``addon_callbacks_total{provider,outcome}`` counts each message once committed: ``received``, then
``rejected`` (bad signature), ``flagged`` (unreadable), ``duplicate`` or ``verified``; once applied,
``applied``, or ``flagged`` when it names a transfer we do not know (docs/operations.md "Metrics").
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from banking.iso20022 import Iso20022Error
from banking.models import BankCallback, BankTransfer, CallbackStatus
from banking.providers.base import InterbankConnector, StatusMessageRejected, TransferStatus
from banking.services.common import PARTNER_BANK, PARTNER_BANK_CODE
from banking.services.transfers import transfer_outcome, transfer_settle
from core.errors import NotFound
from core.metrics import callbacks_total
from core.raw_payloads import headers_redacted
from core.tasks import enqueue_on_commit
from ledger.services import item_guard
from ledger.states import Cause
from partners.models import Mode
from partners.registry import connector_session_for

WORK = "banking.callback_apply_status"
MESSAGE_ID_HEADER = "X-Bank-Message-Id"
_KEPT_HEADERS = ("content-type", "x-bank-signature", "x-bank-message-id", "user-agent", "x-request-id")


def _count(outcome: str) -> None:
    """``addon_callbacks_total`` once the current DB transaction commits (at once outside one)."""
    db_transaction.on_commit(lambda: callbacks_total.labels(PARTNER_BANK, outcome).inc())


def _verifying_mode(raw: bytes, headers: Mapping[str, str]) -> str | None:
    """The mode (live, else test) of the connection whose webhook secret signed ``raw``."""
    for mode in (Mode.LIVE, Mode.TEST):
        try:
            with connector_session_for(provider_code=PARTNER_BANK_CODE, mode=mode) as connector:
                bank: InterbankConnector = connector
                bank.verify_status_message(raw, headers)
        except (NotFound, StatusMessageRejected):
            continue
        return str(mode)
    return None


def _statuses(raw: bytes, mode: str) -> list[TransferStatus]:
    """The statuses of a status message (``Iso20022Error`` when unreadable)."""
    with connector_session_for(provider_code=PARTNER_BANK_CODE, mode=mode) as connector:
        bank: InterbankConnector = connector
        return bank.parse_status_message(raw)


def callback_receive(*, raw: bytes, headers: Mapping[str, str]) -> tuple[BankCallback, int]:
    """Store, verify, de-duplicate; returns the row and the HTTP status to answer (200, or 401
    for a bad signature, 400 for an unreadable message). Queues ``callback_apply`` when new."""
    kept = {name: value for name, value in headers.items() if name.lower() in _KEPT_HEADERS}
    # stored with the signature redacted; it is checked on ``headers`` as received
    callback = BankCallback.objects.create(provider=PARTNER_BANK, body=raw, headers=headers_redacted(kept))
    _count("received")
    mode = _verifying_mode(raw, headers)
    if mode is None:
        _flag(callback, CallbackStatus.INVALID_SIGNATURE, "signature missing, wrong or outside the window")
        _count("rejected")
        return callback, 401
    try:
        statuses = _statuses(raw, mode)
    except Iso20022Error as exc:
        _flag(callback, CallbackStatus.UNREADABLE, exc.detail)
        _count("flagged")
        return callback, 400
    event_id = next((s.status_message_id for s in statuses if s.status_message_id), None)
    event_id = event_id or {k.lower(): v for k, v in headers.items()}.get(MESSAGE_ID_HEADER.lower())
    try:
        with db_transaction.atomic():
            BankCallback.objects.filter(pk=callback.pk).update(
                event_id=event_id, mode=mode, status=CallbackStatus.QUEUED
            )
            enqueue_on_commit("banking.callback_apply_status", callback.pk)
    except IntegrityError:
        _flag(callback, CallbackStatus.DUPLICATE, f"message {event_id} already received")
        _count("duplicate")
        return callback, 200
    _count("verified")
    callback.event_id, callback.status = event_id, CallbackStatus.QUEUED
    return callback, 200


def _flag(callback: BankCallback, status: str, error: str) -> None:
    BankCallback.objects.filter(pk=callback.pk).update(status=status, error=error[:500])
    callback.status, callback.error = status, error[:500]


def callback_apply(*, callback_id: int) -> str:
    """Apply a queued callback's statuses to our transfers (``transfer_settle``); safe to run
    twice. A status that fails unexpectedly sets its transfer aside; the others are applied."""
    callback = BankCallback.objects.get(pk=callback_id)
    if callback.status != CallbackStatus.QUEUED:
        return callback.status
    unknown = []
    for status in _statuses(bytes(callback.body), callback.mode):
        transfer = (
            BankTransfer.objects.select_related("transaction").filter(transaction__public_id=status.reference).first()
        )
        if transfer is None:
            unknown.append(status.reference)
            continue
        guard = item_guard(work=WORK, transaction=transfer.transaction, item=f"callback {callback.pk}")
        with guard:
            outcome = transfer_outcome(status.status, status.reason_code, status.provider_reference)
            transfer_settle(transfer=transfer, outcome=outcome, cause=Cause.CALLBACK)
    final = CallbackStatus.UNKNOWN_REFERENCE if unknown else CallbackStatus.APPLIED
    BankCallback.objects.filter(pk=callback.pk).update(
        status=final,
        applied_at=timezone.now(),
        error=("unknown references: " + ", ".join(unknown))[:500] if unknown else "",
    )
    _count("flagged" if unknown else "applied")
    return final
