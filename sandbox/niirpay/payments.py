"""Payments of the simulated Niirpay (docs/providers/niirpay.md §6-7): idempotent by reference.

Only payments are remembered under a reference (succeeded or failed, with their HTTP answer);
a refused request (expired or used quote, bill already paid…) records nothing and can be sent
again. The claim on the reference, the quote, the customer's bills and the float are changed
in one database transaction, locked in that order, so nothing is ever paid twice.
Outcomes follow the customer reference (docs/architecture.md §6, sandbox.services.outcome_for).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sandbox.models import SimIdempotency, SimObject
from sandbox.niirpay.accounts import PROVIDER, NiirpayAccount, WireError, float_debit_locked
from sandbox.niirpay.catalog import CURRENCY, SimBiller, biller_by_code
from sandbox.niirpay.customers import PAID, customer_lock, find_bill, mark_bill_paid
from sandbox.niirpay.quotes import QUOTE_KIND, QUOTE_USED, wire_time
from sandbox.niirpay.woyofal import kwh_for_amount, tokens_for
from sandbox.services import (
    Outcome,
    counter_add,
    effect_record,
    fingerprint,
    hang,
    idempotency_lookup,
    outcome_for,
)

PAYMENT_KIND = "payment"
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
EFFECT = "bill_payment"


@dataclass(frozen=True)
class PaymentAnswer:
    status_code: int
    body: dict[str, Any]
    is_replay: bool = False


def _key(account: NiirpayAccount, reference: str) -> str:
    return f"{account.account_id}:{reference}"


def _request_fingerprint(quote_id: str) -> str:
    return fingerprint(json.dumps({"quote_id": quote_id}, sort_keys=True).encode())


def parse_pay_request(body: dict[str, Any], idempotency_key: str | None) -> tuple[str, str]:
    quote_id, reference = body.get("quote_id"), body.get("reference")
    if not isinstance(quote_id, str) or not quote_id:
        raise WireError(400, "INVALID_REQUEST", "quote_id is required.")
    if not isinstance(reference, str) or not REFERENCE_RE.match(reference):
        raise WireError(400, "INVALID_REQUEST", "reference: 1 to 64 characters of A-Z a-z 0-9 _ . : -")
    if idempotency_key != reference:
        raise WireError(400, "INVALID_REQUEST", "The Idempotency-Key header must equal the reference.")
    return quote_id, reference


def payment_create(account: NiirpayAccount, quote_id: str, reference: str) -> PaymentAnswer:
    """Pay a quote under ``reference``: the first call pays, every later one replays its answer."""
    key = _key(account, reference)
    request_fingerprint = _request_fingerprint(quote_id)
    stored = idempotency_lookup(PROVIDER, key)
    if stored is not None:
        return _replay(stored, request_fingerprint)
    customer_reference = _customer_reference_of_quote(quote_id)
    outcome = outcome_for(customer_reference) if customer_reference else Outcome.SUCCESS
    if outcome is Outcome.FLAKY_5XX_ONCE and counter_add(PROVIDER, f"pay_5xx:{key}") == 1:
        # 9903: the first attempt fails before anything is done; the retry goes through.
        raise WireError(503, "INTERNAL_ERROR", "Temporary failure, nothing was done; retry with the same reference.")
    try:
        with transaction.atomic():
            # Claim the reference first: a concurrent request with it waits here for our commit.
            SimIdempotency.objects.create(provider=PROVIDER, key=key, fingerprint=request_fingerprint)
            answer = _settle(account, quote_id, reference)
            SimIdempotency.objects.filter(provider=PROVIDER, key=key).update(
                status_code=answer.status_code, body=answer.body
            )
    except IntegrityError:
        stored = idempotency_lookup(PROVIDER, key)
        if stored is None or stored.status_code is None:
            raise WireError(409, "REQUEST_IN_PROGRESS", "A payment with this reference is being processed.") from None
        return _replay(stored, request_fingerprint)
    if outcome is Outcome.TIMEOUT_THEN_SUCCESS:
        hang()  # 9902: paid and recorded, but the answer comes after the caller's read timeout
    return answer


def payment_get(account: NiirpayAccount, reference: str) -> dict[str, Any]:
    row = SimObject.objects.filter(provider=PROVIDER, kind=PAYMENT_KIND, object_id=_key(account, reference)).first()
    if row is None:
        raise WireError(404, "PAYMENT_NOT_FOUND", f"No payment with reference {reference!r}.")
    return dict(row.data)


def _replay(stored: SimIdempotency, request_fingerprint: str) -> PaymentAnswer:
    if stored.fingerprint != request_fingerprint:
        raise WireError(409, "DUPLICATE_REFERENCE", "This reference was already used for another quote.")
    return PaymentAnswer(stored.status_code or 200, stored.body or {}, is_replay=True)


def _customer_reference_of_quote(quote_id: str) -> str:
    row = SimObject.objects.filter(provider=PROVIDER, kind=QUOTE_KIND, object_id=quote_id).first()
    return row.reference if row else ""


def _locked_quote(account: NiirpayAccount, quote_id: str) -> tuple[SimObject, SimBiller]:
    quote = SimObject.objects.select_for_update().filter(provider=PROVIDER, kind=QUOTE_KIND, object_id=quote_id).first()
    biller = biller_by_code(quote.data["biller_code"]) if quote else None
    if quote is None or biller is None or quote.data["account_id"] != account.account_id:
        raise WireError(404, "QUOTE_NOT_FOUND", f"No quote {quote_id!r}.")
    if biller.code in account.unavailable_billers:
        raise WireError(422, "BILLER_UNAVAILABLE", f"{biller.name} cannot be reached; nothing was done, retry later.")
    if quote.status == QUOTE_USED:
        raise WireError(409, "QUOTE_ALREADY_USED", f"Quote {quote_id} was already paid.")
    if timezone.now() >= datetime.fromisoformat(quote.data["expires_at"]):
        raise WireError(422, "QUOTE_EXPIRED", f"Quote {quote_id} expired at {quote.data['expires_at']}.")
    return quote, biller


def _settle(account: NiirpayAccount, quote_id: str, reference: str) -> PaymentAnswer:
    """Inside the payment transaction: refuse (``WireError``), fail, or pay; record the payment."""
    quote, biller = _locked_quote(account, quote_id)
    customer_reference, bill_id = quote.reference, quote.data["bill_id"]
    customer = customer_lock(biller.code, customer_reference)
    if bill_id is not None and (find_bill(customer, bill_id) or {}).get("status") == PAID:
        raise WireError(409, "BILL_ALREADY_PAID", f"Bill {bill_id} is already paid.")
    total = int(quote.data["total"])
    outcome = outcome_for(customer_reference)
    if outcome is Outcome.REJECTED:
        body = _payment_body(quote, reference, "FAILED", failure=("CUSTOMER_BLOCKED", "The biller refused: blocked."))
    elif outcome is Outcome.INSUFFICIENT_FLOAT or not float_debit_locked(account, total):
        body = _payment_body(quote, reference, "FAILED", failure=("INSUFFICIENT_FLOAT", "Merchant float too low."))
    else:
        quote.status = QUOTE_USED
        quote.save(update_fields=["status", "updated_at"])
        if bill_id is not None:
            mark_bill_paid(customer, biller, bill_id, reference)
        effect_record(provider=PROVIDER, effect=EFFECT, reference=reference, amount_minor=total, currency=CURRENCY)
        body = _payment_body(quote, reference, "SUCCESSFUL", receipt=_receipt(biller, quote, reference))
    SimObject.objects.create(
        provider=PROVIDER,
        kind=PAYMENT_KIND,
        object_id=_key(account, reference),
        reference=customer_reference,
        status=body["status"],
        data=body,
    )
    return PaymentAnswer(201, body)


def _receipt(biller: SimBiller, quote: SimObject, reference: str) -> dict[str, Any]:
    receipt: dict[str, Any] = {"number": f"R{secrets.randbelow(10**12):012d}", "tokens": [], "kwh": None}
    if biller.code == "WOYOFAL":
        amount = int(quote.data["amount"])
        receipt["tokens"] = tokens_for(quote.reference, reference)
        receipt["kwh"] = str(kwh_for_amount(amount))
    return receipt


def _payment_body(
    quote: SimObject,
    reference: str,
    status: str,
    *,
    receipt: dict[str, Any] | None = None,
    failure: tuple[str, str] | None = None,
) -> dict[str, Any]:
    data = quote.data
    return {
        "reference": reference,
        "transaction_id": f"NPT{timezone.now():%Y%m%d}{secrets.token_hex(6).upper()}",
        "status": status,
        "quote_id": data["quote_id"],
        "biller_code": data["biller_code"],
        "customer_reference": quote.reference,
        "bill_id": data["bill_id"],
        "amount": data["amount"],
        "fee": data["fee"],
        "total": data["total"],
        "currency": data["currency"],
        "receipt": receipt,
        "failure": {"code": failure[0], "message": failure[1]} if failure else None,
        "created_at": wire_time(timezone.now()),
    }
