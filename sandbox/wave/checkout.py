"""Wave simulator: checkout sessions (docs/providers/wave.md §4) and the test helper that pays
one as a customer would, then sends the signed webhook (§6).

Outcomes by the payer's number: ``…9901`` → ``blocked-account``, ``…9904`` →
``insufficient-funds`` (both: ``checkout.session.payment_failed``, the session stays open);
``…9905`` → paid, and ``checkout.session.completed`` arrives late and twice; anything else →
paid, one webhook at once. A paid session credits the wallet (amount minus the 1 % fee) and records a
``SimEffect`` ``checkout_payment``; a refund debits the full amount (``checkout_refund``).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import escape
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone

from sandbox.models import SimObject
from sandbox.services import Outcome, SimAccount, effect_record, outcome_for
from sandbox.wave.common import (
    PROVIDER,
    Answer,
    account_by_wallet,
    answer,
    balance_credit,
    balance_debit,
    body_fingerprint,
    fee_of,
    idempotent,
    iso,
    json_body,
    public,
    validation_error,
    wallet_of,
    wave_api,
    wave_error,
    wave_id,
    whole_amount,
)
from sandbox.wave.events import LATE_TWICE, ON_TIME, event_send

SESSION_FIELDS = frozenset(
    {
        "amount",
        "currency",
        "success_url",
        "error_url",
        "client_reference",
        "restrict_payer_mobile",
        "aggregated_merchant_id",
    }
)
SESSION_LIFETIME = timedelta(minutes=30)  # ≈30 min in Wave's examples (assumed, docs/providers/wave.md §8)
_URL_RE = re.compile(r"^https?://\S+$")
_MOBILE_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")


def session_problem(body: dict[str, Any]) -> JsonResponse | None:
    extra = set(body) - SESSION_FIELDS
    if extra:  # e.g. "metadata": rejected by Wave (docs/providers/wave.md §4)
        return validation_error("extra fields not permitted", [sorted(extra)[0]])
    for field in ("amount", "currency", "success_url", "error_url"):
        if field not in body:
            return validation_error("field required", [field])
    if body["currency"] != "XOF":
        return wave_error(400, "currency-mismatch", "The wallet holds XOF.")
    amount = whole_amount(body["amount"], "amount")
    if isinstance(amount, JsonResponse):
        return amount
    for field in ("success_url", "error_url"):
        if not isinstance(body[field], str) or not _URL_RE.match(body[field]):
            return validation_error("invalid or missing URL scheme", [field])
    payer = body.get("restrict_payer_mobile")
    if payer is not None and (not isinstance(payer, str) or not _MOBILE_RE.match(payer)):
        return validation_error("restrict_payer_mobile must be in E.164 form", ["restrict_payer_mobile"])
    return None


def session_execute(request: HttpRequest, account: SimAccount, body: dict[str, Any]) -> Answer:
    session_id = wave_id("cos-")
    now = timezone.now()
    session = {
        "id": session_id,
        "amount": body["amount"],
        "currency": body["currency"],
        "checkout_status": "open",
        "payment_status": "processing",
        "business_name": account.extra.get("business_name", ""),
        "client_reference": body.get("client_reference"),
        "transaction_id": None,
        "wave_launch_url": request.build_absolute_uri(reverse("sandbox-wave-launch", args=[session_id])),
        "success_url": body["success_url"],
        "error_url": body["error_url"],
        "restrict_payer_mobile": body.get("restrict_payer_mobile"),
        "aggregated_merchant_id": body.get("aggregated_merchant_id"),
        "last_payment_error": None,
        "when_created": iso(now),
        "when_expires": iso(now + SESSION_LIFETIME),
        "when_completed": None,
    }
    SimObject.objects.create(
        provider=PROVIDER,
        kind="checkout_session",
        object_id=session_id,
        reference=body.get("client_reference") or "",
        status="open",
        data={**session, "_account": wallet_of(account), "_expires_ts": (now + SESSION_LIFETIME).timestamp()},
    )
    return 200, session


def _fresh(row: SimObject) -> SimObject:
    """Expire an open session past its deadline (Wave would have done it on its own)."""
    if row.data["checkout_status"] == "open" and timezone.now().timestamp() >= row.data["_expires_ts"]:
        row.data.update(checkout_status="expired", payment_status="cancelled")
        row.status = "expired"
        row.save(update_fields=["data", "status", "updated_at"])
    return row


def _session_rows(account: SimAccount) -> Any:
    return SimObject.objects.filter(provider=PROVIDER, kind="checkout_session", data___account=wallet_of(account))


@wave_api("POST", "GET")
def sessions(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """``POST`` creates a session; ``GET ?transaction_id=`` finds one by its payment (docs/providers/wave.md §4)."""
    if request.method == "GET":
        row = _session_rows(account).filter(data__transaction_id=request.GET.get("transaction_id") or "-").first()
        if row is None:
            return wave_error(404, "checkout-session-not-found", "No checkout session for this transaction.")
        return JsonResponse(public(_fresh(row).data))
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    problem = session_problem(body)
    if problem is not None:
        return problem
    key = request.headers.get("Idempotency-Key")
    if not key:  # optional for sessions (docs/providers/wave.md §4); integrators send it anyway
        return answer(*session_execute(request, account, body))
    status, payload, _ = idempotent(
        wallet_of(account), f"session:{key}", body_fingerprint(body), lambda: session_execute(request, account, body)
    )
    return answer(status, payload)


@wave_api("GET")
def session_get(request: HttpRequest, account: SimAccount, session_id: str) -> HttpResponse:
    row = _session_rows(account).filter(object_id=session_id).first()
    if row is None:
        return wave_error(404, "checkout-session-not-found", "No checkout session with this id.")
    return JsonResponse(public(_fresh(row).data))


@wave_api("GET")
def session_search(request: HttpRequest, account: SimAccount) -> HttpResponse:
    reference = request.GET.get("client_reference")
    if not reference:
        return validation_error("field required", ["client_reference"])
    rows = _session_rows(account).filter(reference=reference).order_by("pk")
    return JsonResponse({"result": [public(_fresh(row).data) for row in rows]})


def _locked_session(account: SimAccount, session_id: str) -> SimObject | None:
    row = _session_rows(account).select_for_update().filter(object_id=session_id).first()
    return _fresh(row) if row else None


@wave_api("POST")
def session_expire(request: HttpRequest, account: SimAccount, session_id: str) -> HttpResponse:
    with transaction.atomic():
        row = _locked_session(account, session_id)
        if row is None:
            return wave_error(404, "checkout-session-not-found", "No checkout session with this id.")
        if row.data["checkout_status"] != "open":
            return wave_error(409, "checkout-session-not-open", f"The session is {row.data['checkout_status']}.")
        row.data.update(checkout_status="expired", payment_status="cancelled")
        row.status = "expired"
        row.save(update_fields=["data", "status", "updated_at"])
    return answer(200, None)


@wave_api("POST")
def session_refund(request: HttpRequest, account: SimAccount, session_id: str) -> HttpResponse:
    """Full refund, idempotent: a second call succeeds and moves nothing (docs/providers/wave.md §4)."""
    with transaction.atomic():
        row = _locked_session(account, session_id)
        if row is None:
            return wave_error(404, "checkout-session-not-found", "No checkout session with this id.")
        data = row.data
        if data.get("when_refunded"):
            return answer(200, None)
        if data["payment_status"] != "succeeded":
            return wave_error(400, "checkout-refund-failed", "Only a succeeded payment can be refunded.")
        amount = int(data["amount"])
        if not balance_debit(wallet_of(account), amount):
            return wave_error(400, "checkout-refund-failed", "The wallet cannot cover the refund.")
        reference = row.reference or row.object_id
        effect_record(
            provider=PROVIDER, effect="checkout_refund", reference=reference, amount_minor=amount, currency="XOF"
        )
        data["when_refunded"] = iso(timezone.now())
        row.save(update_fields=["data", "updated_at"])
    return answer(200, None)


@wave_api("GET", authenticated=False)
def launch_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """Where ``wave_launch_url`` leads: a plain page standing in for the Wave app."""
    row = SimObject.objects.filter(provider=PROVIDER, kind="checkout_session", object_id=session_id).first()
    if row is None:
        return HttpResponse("Unknown checkout session.", status=404, content_type="text/plain")
    data = _fresh(row).data
    text = f"{data['business_name']}: {data['amount']} {data['currency']} ({data['checkout_status']})"
    return HttpResponse(f"<!doctype html><title>Wave sandbox</title><p>{escape(text)}</p>")


# --- test helper: act as the customer -------------------------------------------------------------

_PAYMENT_ERRORS = {
    Outcome.REJECTED: ("blocked-account", "The payer's account is blocked."),
    Outcome.INSUFFICIENT_FLOAT: ("insufficient-funds", "The payer's balance is too low."),
}


def _pay(account: SimAccount, row: SimObject, payer: str) -> tuple[str, tuple[float, ...]]:
    """Settle one payment attempt on a locked open session: ``(event type, delivery delays)``."""
    data = row.data
    outcome = outcome_for(payer)
    failure = _PAYMENT_ERRORS.get(outcome)
    if data.get("restrict_payer_mobile") and data["restrict_payer_mobile"] != payer:
        failure = ("payer-mobile-mismatch", "Only the designated number may pay this session.")
    if failure is not None:
        data["last_payment_error"] = {"code": failure[0], "message": failure[1]}
        return "checkout.session.payment_failed", ON_TIME
    amount = int(data["amount"])
    data.update(
        checkout_status="complete",
        payment_status="succeeded",
        transaction_id="T_" + wave_id("", 10).upper(),
        when_completed=iso(timezone.now()),
        last_payment_error=None,
        _payer=payer,  # kept for the record of the day (sandbox/wave/records.py)
    )
    row.status = "complete"
    balance_credit(wallet_of(account), amount - fee_of(amount))
    effect_record(
        provider=PROVIDER,
        effect="checkout_payment",
        reference=row.reference or row.object_id,
        amount_minor=amount,
        currency="XOF",
    )
    return "checkout.session.completed", LATE_TWICE if outcome is Outcome.LATE_DUPLICATE_CALLBACK else ON_TIME


@wave_api("POST", authenticated=False)
def test_pay(request: HttpRequest, session_id: str) -> HttpResponse:
    """``POST /sandbox/wave/_test/checkout/{id}/pay {"payer_msisdn": "+221…"}``."""
    try:
        payer = json.loads(request.body or b"{}").get("payer_msisdn")
    except (ValueError, AttributeError):
        payer = None
    if not isinstance(payer, str) or not _MOBILE_RE.match(payer):
        return validation_error("payer_msisdn (E.164) is required", ["payer_msisdn"])
    with transaction.atomic():
        row = (
            SimObject.objects.select_for_update()
            .filter(provider=PROVIDER, kind="checkout_session", object_id=session_id)
            .first()
        )
        account = account_by_wallet(row.data["_account"]) if row else None
        if row is None or account is None:
            return wave_error(404, "checkout-session-not-found", "No checkout session with this id.")
        if _fresh(row).data["checkout_status"] != "open":
            return wave_error(409, "checkout-session-not-open", f"The session is {row.data['checkout_status']}.")
        event_type, delays = _pay(account, row, payer)
        row.save(update_fields=["data", "status", "updated_at"])
        event_send(account, event_type, public(row.data), delays)
    return JsonResponse(public(row.data))
