"""Orange Money simulator: merchant QR codes v4 (docs/providers/orange_money.md §4) and the test
helper that pays one as a customer would, then sends the notification (§6).

The status endpoint ``GET /api/eWallet/v4/qrcode/{qrId}`` is known from one public integration
only (§4 of that page, assumed); its answer here is the creation answer plus ``status`` (the
transaction status enum), ``reference``, ``amount``, ``transactionId`` and ``customer`` once paid: an assumption.

Payment outcomes by the payer's number: ``…9901`` → FAILED (2000), ``…9904`` → FAILED (2021,
payer balance insufficient); ``…9905`` → SUCCESS, notified late and twice; anything else →
SUCCESS, notified at once. A paid QR code credits the merchant wallet and records a
``SimEffect`` ``merchant_payment``. A QR code is paid at most once.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from datetime import timedelta
from html import escape
from typing import Any

import qrcode
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone

from sandbox.models import SimObject
from sandbox.orange_money.common import (
    MSISDN_RE,
    PROVIDER,
    client_of,
    iso_at,
    json_body,
    om_api,
    problem,
    public,
    wallet_move,
    xof_amount,
)
from sandbox.orange_money.events import LATE_TWICE, ON_TIME, notification_send
from sandbox.orange_money.transactions import MERCHANT_PAYMENT, transaction_object, transaction_store
from sandbox.services import Outcome, SimAccount, account_for_key, effect_record, outcome_for, simulate_latency

QR_PATH = "/api/eWallet/v4/qrcode"
MAX_VALIDITY_SECONDS = 86400
_FAILURES = {Outcome.REJECTED: "2000", Outcome.INSUFFICIENT_FLOAT: "2021"}


def qr_png_base64(payload: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(payload).save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def qr_problem(account: SimAccount, body: dict[str, Any]) -> JsonResponse | None:
    if body.get("code") != account.extra["merchant_code"]:
        return problem(403, 2041, "Unknown merchant code for this application", QR_PATH)
    if xof_amount(body.get("amount")) is None:
        return problem(400, 400, "amount {unit: XOF, value: positive integer} is required", QR_PATH)
    validity = body.get("validity")
    if isinstance(validity, bool) or not isinstance(validity, int) or not 0 < validity <= MAX_VALIDITY_SECONDS:
        return problem(400, 400, f"validity must be 1 to {MAX_VALIDITY_SECONDS} seconds", QR_PATH)
    if not isinstance(body.get("reference"), str) or not body["reference"]:
        return problem(400, 400, "reference is required", QR_PATH)
    return None


@om_api("POST")
def qrcode_create(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """``POST /api/eWallet/v4/qrcode``: a QR code with deep links (MaxIt, OM) and a short link."""
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    refusal = qr_problem(account, body)
    if refusal is not None:
        return refusal
    qr_id = secrets.token_hex(12)
    start = timezone.now()
    link = request.build_absolute_uri(reverse("sandbox-om-link", args=[qr_id]))
    answer = {
        "deepLink": f"{link}?app=om",
        "deepLinks": {"OM": f"{link}?app=om", "MAXIT": f"{link}?app=maxit"},
        "qrCode": qr_png_base64(link),
        "validity": body["validity"],
        "metadata": body.get("metadata") or {},
        "shortLink": link,
        "qrId": qr_id,
        "validFor": {
            "startDateTime": iso_at(start),
            "endDateTime": iso_at(start + timedelta(seconds=body["validity"])),
        },
    }
    state = {"status": "INITIATED", "reference": body["reference"], "amount": body["amount"], "transactionId": None}
    SimObject.objects.create(
        provider=PROVIDER,
        kind="qrcode",
        object_id=qr_id,
        reference=body["reference"],
        status="INITIATED",
        data={
            **answer,
            **state,
            "_account": client_of(account),
            "_callback_url": request.headers.get("X-Callback-Url", ""),
            "_expires_ts": (start + timedelta(seconds=body["validity"])).timestamp(),
        },
    )
    return JsonResponse(answer)


@om_api("GET")
def qrcode_get(request: HttpRequest, account: SimAccount, qr_id: str) -> HttpResponse:
    row = SimObject.objects.filter(
        provider=PROVIDER, kind="qrcode", object_id=qr_id, data___account=client_of(account)
    ).first()
    if row is None:
        return problem(404, 404, "QR code not found", request.path)
    return JsonResponse(public(row.data))


def link_page(request: HttpRequest, qr_id: str) -> HttpResponse:
    """Where the deep links and the short link lead: a plain page standing in for the apps."""
    simulate_latency()
    row = SimObject.objects.filter(provider=PROVIDER, kind="qrcode", object_id=qr_id).first()
    if row is None:
        return HttpResponse("Unknown QR code.", status=404, content_type="text/plain")
    text = f"Orange Money: {row.data['amount']['value']} XOF for {row.reference} ({row.data['status']})"
    return HttpResponse(f"<!doctype html><title>Orange Money sandbox</title><p>{escape(text)}</p>")


# --- test helper: act as the customer -------------------------------------------------------------


def _pay(account: SimAccount, row: SimObject, payer: str) -> tuple[dict[str, Any], tuple[float, ...]]:
    """Settle the payment of a locked, payable QR code: ``(transaction, notification delays)``."""
    outcome = outcome_for(payer)
    failure = _FAILURES.get(outcome)
    amount = xof_amount(row.data["amount"]) or 0
    partner = {"id": account.extra["merchant_code"], "idType": "CODE", "walletType": "PRINCIPAL"}
    transaction_ = transaction_object(
        kind=MERCHANT_PAYMENT,
        reference=row.reference,
        amount_minor=amount,
        partner=partner,
        customer_msisdn=payer,
        status="FAILED" if failure else "SUCCESS",
        channel="MAXIT",
        receive_notification=True,
        metadata=row.data.get("metadata") or {},
    )
    if failure:
        # Assumed: where Sonatel puts the reason is not documented (docs/providers/orange_money.md §9).
        transaction_["errorCode"] = failure
    transaction_store(account, transaction_)
    row.data.update(
        status=transaction_["status"],
        transactionId=transaction_["transactionId"],
        customer=transaction_["customer"],
        updatedAt=transaction_["updatedAt"],
    )
    row.status = transaction_["status"]
    if not failure:
        wallet_move(account, amount, wallet="merchant")
        effect_record(
            provider=PROVIDER, effect="merchant_payment", reference=row.reference, amount_minor=amount, currency="XOF"
        )
    return transaction_, LATE_TWICE if outcome is Outcome.LATE_DUPLICATE_CALLBACK else ON_TIME


def _payer(request: HttpRequest) -> str | None:
    """The payer's number in the 9-digit form (E.164 ``+221…`` accepted too)."""
    try:
        payer = json.loads(request.body or b"{}").get("payer_msisdn")
    except (ValueError, AttributeError):
        return None
    if isinstance(payer, str) and payer.startswith("+221"):
        payer = payer[4:]
    return payer if isinstance(payer, str) and MSISDN_RE.match(payer) else None


@om_api("POST", authenticated=False)
def test_pay(request: HttpRequest, qr_id: str) -> HttpResponse:
    """``POST /sandbox/orange-money/_test/qrcode/{qrId}/pay {"payer_msisdn": "+221…"}``."""
    payer = _payer(request)
    if payer is None:
        return problem(400, 2001, "payer_msisdn is required: +221 and 9 digits, or 9 digits", request.path)
    with transaction.atomic():
        row = SimObject.objects.select_for_update().filter(provider=PROVIDER, kind="qrcode", object_id=qr_id).first()
        account = account_for_key(PROVIDER, row.data["_account"]) if row else None
        if row is None or account is None:
            return problem(404, 404, "QR code not found", request.path)
        if row.data["status"] != "INITIATED":
            return problem(409, 409, f"The QR code is already {row.data['status']}", request.path)
        if timezone.now().timestamp() >= row.data["_expires_ts"]:
            return problem(400, 4004, "QR code expired", request.path)
        transaction_, delays = _pay(account, row, payer)
        row.save(update_fields=["data", "status", "updated_at"])
        notification_send(account, transaction_, url=row.data["_callback_url"], delays=delays)
    return JsonResponse(public(row.data))
