"""Simulated partner bank: takes our pacs.008 transfers and settles them asynchronously.

- ``POST /sandbox/banks/partner/v1/payments`` (``Authorization: Bearer <api key>``, body a
  pacs.008.001.08 with one transaction) → ``202`` + pacs.002.001.10 ``ACSP`` (accepted,
  settlement in process). The same TxId again → ``200`` + the transfer's current pacs.002 (no
  second transfer); the same TxId with another amount/account/EndToEndId → ``409`` + ``RJCT DUPL``;
  an unreadable message → ``400`` + group ``RJCT FF01``;
- after the account's settlement delay (``extra["settlement_delay_seconds"]``, 2 s by default)
  the transfer is final: ``ACSC`` (settled) or ``RJCT`` with its reason (outcomes by the
  beneficiary's account number, sandbox/banks/outcomes.py; SICA-UEMOA above 50,000,000 XOF →
  ``AM02``; a currency other than XOF → ``AM11``). At that moment the bank's signed pacs.002
  callback is delivered to the account's callback URL (sandbox.services.callback_enqueue) and
  ``GET /sandbox/banks/partner/v1/payments/<TxId>`` starts answering the final status — the two
  always agree. Before it, the GET answers ``ACSP``.

Signature: ``X-Bank-Signature: t=<unix>,v1=hex(HMAC-SHA256(webhook_secret, "<t>." + body))``;
``X-Bank-Message-Id`` carries the pacs.002 MsgId (identical on a repeated callback).
State: ``SimObject(provider="partner_bank", kind="payment", object_id=TxId)``; a transfer that
will settle records one ``SimEffect(effect="interbank_transfer")`` in the same DB transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox.banks.accounts import DEFAULT_SETTLEMENT_DELAY_SECONDS
from sandbox.banks.accounts import PARTNER_PROVIDER as PROVIDER
from sandbox.banks.iso import (
    Pacs008Unreadable,
    ReceivedTransfer,
    new_message_id,
    read_pacs008,
    write_group_rejection,
    write_pacs002,
)
from sandbox.banks.outcomes import decide
from sandbox.models import SimObject
from sandbox.services import (
    Outcome,
    SimAccount,
    account_for_key,
    bearer_token,
    callback_enqueue,
    counter_add,
    effect_record,
    fingerprint,
    hang,
    simulate_latency,
)

MAX_BODY_BYTES = 1024 * 1024
SICA_LIMIT_XOF = 50_000_000
LATE_CALLBACK_SECONDS = 5.0
REASON_TEXTS = {
    "AC01": "Unknown beneficiary account",
    "AC04": "Beneficiary account closed",
    "AC06": "Beneficiary account blocked",
    "AM02": "Amount above the SICA-UEMOA clearing limit",
    "AM04": "Insufficient funds on the settlement account",
    "AM11": "Currency not accepted",
}


def _xml(body: bytes, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/xml")


def _status_now(row: SimObject) -> tuple[str, str | None]:
    data = row.data
    if time.time() >= data["settle_at"]:
        return data["final_status"], data["reason_code"]
    return "ACSP", None


def _status_report(row: SimObject) -> bytes:
    status, reason_code = _status_now(row)
    return write_pacs002(
        msg_id=new_message_id(),
        created_at=timezone.now(),
        transfer=row.data["transfer"],
        status=status,
        reason_code=reason_code,
        reason_text=REASON_TEXTS.get(reason_code or "", ""),
    )


def _final_outcome(transfer: ReceivedTransfer) -> tuple[str, str | None, Outcome]:
    decision = decide(transfer.creditor_account)
    if transfer.currency != "XOF":
        return "RJCT", "AM11", decision.outcome
    if transfer.clearing_system == "SICA-UEMOA" and int(transfer.amount) > SICA_LIMIT_XOF:
        return "RJCT", "AM02", decision.outcome
    if decision.reason_code:
        return "RJCT", decision.reason_code, decision.outcome
    return "ACSC", None, decision.outcome


def _record(transfer: ReceivedTransfer, request_fingerprint: str, account: SimAccount) -> SimObject | None:
    """Store the transfer (and its settlement effect) atomically; ``None`` if the TxId exists."""
    final_status, reason_code, _outcome = _final_outcome(transfer)
    delay = float(account.extra.get("settlement_delay_seconds", DEFAULT_SETTLEMENT_DELAY_SECONDS))
    data: dict[str, Any] = {
        "fingerprint": request_fingerprint,
        "transfer": {**transfer.__dict__, "bank_reference": f"PB-{counter_add(PROVIDER, 'transfer'):010d}"},
        "final_status": final_status,
        "reason_code": reason_code,
        "settle_at": time.time() + delay,
        "settlement_delay": delay,
    }
    try:
        with transaction.atomic():
            row = SimObject.objects.create(
                provider=PROVIDER,
                kind="payment",
                object_id=transfer.tx_id,
                reference=transfer.end_to_end_id,
                status=final_status,
                data=data,
            )
            if final_status == "ACSC":
                effect_record(
                    provider=PROVIDER,
                    effect="interbank_transfer",
                    reference=transfer.tx_id,
                    amount_minor=int(transfer.amount),
                    currency=transfer.currency,
                )
    except IntegrityError:
        return None
    return row


def sign(secret: str, body: bytes, t: int) -> str:
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _send_callbacks(row: SimObject, account: SimAccount, outcome: Outcome) -> None:
    """Queue the final pacs.002 for delivery when the transfer settles (late and twice for 9905)."""
    if not account.callback_url:
        return
    data = row.data
    msg_id = new_message_id()
    body = write_pacs002(
        msg_id=msg_id,
        created_at=timezone.now(),
        transfer=data["transfer"],
        status=data["final_status"],
        reason_code=data["reason_code"],
        reason_text=REASON_TEXTS.get(data["reason_code"] or "", ""),
    )
    delays = [data["settlement_delay"]]
    if outcome is Outcome.LATE_DUPLICATE_CALLBACK:
        delays = [
            data["settlement_delay"] + LATE_CALLBACK_SECONDS,
            data["settlement_delay"] + LATE_CALLBACK_SECONDS + 1,
        ]
    for delay in delays:
        headers = {
            "Content-Type": "application/xml",
            "X-Bank-Signature": sign(account.webhook_secret, body, int(time.time())),
            "X-Bank-Message-Id": msg_id,
        }
        callback_enqueue(provider=PROVIDER, url=account.callback_url, body=body, headers=headers, delay_seconds=delay)


def _refuse_unreadable(exc: Pacs008Unreadable) -> HttpResponse:
    body = write_group_rejection(
        msg_id=new_message_id(), created_at=timezone.now(), original_msg_id="UNKNOWN", reason_text=str(exc)
    )
    return _xml(body, 400)


@csrf_exempt
@require_POST
def payments_create(request: HttpRequest) -> HttpResponse:
    simulate_latency()
    account = account_for_key(PROVIDER, bearer_token(request))
    if account is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "payload_too_large"}, status=413)
    try:
        transfer = read_pacs008(request.body)
        int(transfer.amount)
    except (Pacs008Unreadable, ValueError) as exc:
        return _refuse_unreadable(Pacs008Unreadable(str(exc)))
    account_id = "".join(transfer.creditor_account.split()).upper()
    request_fingerprint = fingerprint(
        f"{transfer.amount}|{transfer.currency}|{account_id}|{transfer.end_to_end_id}".encode()
    )
    existing = SimObject.objects.filter(provider=PROVIDER, kind="payment", object_id=transfer.tx_id).first()
    if existing is not None:
        return _answer_repeat(existing, request_fingerprint)
    outcome = _final_outcome(transfer)[2]
    if outcome is Outcome.FLAKY_5XX_ONCE and counter_add(PROVIDER, f"5xx:{transfer.tx_id}") == 1:
        return JsonResponse({"error": "temporarily_unavailable"}, status=503)
    row = _record(transfer, request_fingerprint, account)
    if row is None:
        existing = SimObject.objects.get(provider=PROVIDER, kind="payment", object_id=transfer.tx_id)
        return _answer_repeat(existing, request_fingerprint)
    _send_callbacks(row, account, outcome)
    if outcome is Outcome.TIMEOUT_THEN_SUCCESS:
        hang()  # received, recorded and settling; the caller's read timeout fires first
    return _xml(_status_report(row), 202)


def _answer_repeat(row: SimObject, request_fingerprint: str) -> HttpResponse:
    if row.data["fingerprint"] != request_fingerprint:
        body = write_pacs002(
            msg_id=new_message_id(),
            created_at=timezone.now(),
            transfer=row.data["transfer"],
            status="RJCT",
            reason_code="DUPL",
            reason_text="TxId already used for another transfer",
        )
        return _xml(body, 409)
    return _xml(_status_report(row), 200)


@require_GET
def payment_detail(request: HttpRequest, tx_id: str) -> HttpResponse:
    simulate_latency()
    if account_for_key(PROVIDER, bearer_token(request)) is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    row = SimObject.objects.filter(provider=PROVIDER, kind="payment", object_id=tx_id).first()
    if row is None:
        return JsonResponse({"error": "payment_not_found"}, status=404)
    return _xml(_status_report(row), 200)
