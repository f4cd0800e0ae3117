"""Catalogue, lookup and quote of the simulated Niirpay (docs/providers/niirpay.md §§ 3-5).

Each function takes the calling account and the parsed JSON body and returns the JSON answer,
or raises ``WireError`` with Niirpay's error code. Nothing here moves money.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from core.errors import GatewayError
from core.money import Money
from sandbox.models import SimObject
from sandbox.niirpay.accounts import PROVIDER, NiirpayAccount, WireError
from sandbox.niirpay.catalog import BILLERS, CURRENCY, SimBiller, biller_by_code
from sandbox.niirpay.customers import PAID, customer_get_or_create, find_bill, open_bills

QUOTE_KIND = "quote"
QUOTE_OPEN = "OPEN"
QUOTE_USED = "USED"


def wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _amount_range(biller: SimBiller) -> dict[str, str]:
    return {"min": str(biller.min_amount), "max": str(biller.max_amount), "currency": CURRENCY}


def _offers(biller: SimBiller) -> list[dict[str, str]]:
    return [
        {"code": offer.code, "name": offer.name, "amount": str(offer.amount), "currency": CURRENCY}
        for offer in biller.offers
    ]


def billers_list(account: NiirpayAccount) -> dict[str, Any]:
    return {
        "billers": [
            {
                "code": biller.code,
                "name": biller.name,
                "category": biller.category,
                "type": biller.type,
                "status": "UNAVAILABLE" if biller.code in account.unavailable_billers else "AVAILABLE",
                "customer_reference": {
                    "label": biller.reference_label,
                    "pattern": biller.reference_pattern,
                    "example": biller.reference_example,
                },
                "amount": _amount_range(biller),
                "offers": _offers(biller),
            }
            for biller in BILLERS
        ]
    }


def available_biller(account: NiirpayAccount, biller_code: object) -> SimBiller:
    biller = biller_by_code(biller_code) if isinstance(biller_code, str) else None
    if biller is None:
        raise WireError(404, "UNKNOWN_BILLER", f"No biller {biller_code!r}.")
    if biller.code in account.unavailable_billers:
        raise WireError(422, "BILLER_UNAVAILABLE", f"{biller.name} cannot be reached; nothing was done, retry later.")
    return biller


def customer_reference_of(biller: SimBiller, body: dict[str, Any]) -> str:
    reference = body.get("customer_reference")
    if not isinstance(reference, str) or not biller.accepts_reference(reference):
        raise WireError(
            422, "INVALID_CUSTOMER_REFERENCE", f"{biller.reference_label}: expected {biller.reference_pattern}."
        )
    return reference


def lookup(account: NiirpayAccount, body: dict[str, Any]) -> dict[str, Any]:
    biller = available_biller(account, body.get("biller_code"))
    reference = customer_reference_of(biller, body)
    customer = customer_get_or_create(biller, reference)
    return {
        "biller_code": biller.code,
        "customer_reference": reference,
        "customer_name": customer.data["name"],
        "bills": [
            {
                "bill_id": bill["bill_id"],
                "period": bill["period"],
                "amount": str(bill["amount"]),
                "currency": CURRENCY,
                "due_date": bill["due_date"],
            }
            for bill in open_bills(customer)
        ],
        "amount": None if biller.is_postpaid else _amount_range(biller),
        "offers": _offers(biller),
    }


def _prepaid_amount(body: dict[str, Any]) -> int:
    currency = body.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise WireError(422, "UNSUPPORTED_CURRENCY", f"Billers are paid in {CURRENCY} only.")
    try:
        return Money.parse(body.get("amount"), CURRENCY).minor
    except GatewayError as exc:
        raise WireError(400, "INVALID_REQUEST", f"amount: {exc.detail}") from None


def _quoted_amount(biller: SimBiller, customer: SimObject, body: dict[str, Any]) -> tuple[int, str | None]:
    """The amount to pay and the bill it settles (None for prepaid billers)."""
    bill_id, has_amount = body.get("bill_id"), body.get("amount") is not None
    if bill_id is not None and has_amount:
        raise WireError(400, "INVALID_REQUEST", "Send bill_id (postpaid billers) or amount (prepaid), not both.")
    if bill_id is None and not has_amount:
        kind = "bill_id (from the lookup)" if biller.is_postpaid else "amount"
        raise WireError(400, "INVALID_REQUEST", f"{biller.code} needs {kind}.")
    if not biller.is_postpaid:
        if bill_id is not None:
            raise WireError(400, "INVALID_REQUEST", f"{biller.code} is prepaid: send an amount, not a bill_id.")
        return _prepaid_amount(body), None
    if bill_id is None:
        raise WireError(400, "INVALID_REQUEST", f"{biller.code} bills are paid in full: send the bill_id.")
    bill = find_bill(customer, bill_id) if isinstance(bill_id, str) else None
    if bill is None:
        raise WireError(404, "BILL_NOT_FOUND", f"No bill {bill_id!r} for this customer.")
    if bill["status"] == PAID:
        raise WireError(409, "BILL_ALREADY_PAID", f"Bill {bill_id} is already paid.")
    return int(bill["amount"]), bill_id


def _check_amount(biller: SimBiller, amount: int) -> None:
    if not biller.min_amount <= amount <= biller.max_amount:
        raise WireError(
            422,
            "AMOUNT_OUT_OF_RANGE",
            f"{biller.code} accepts {biller.min_amount} to {biller.max_amount} {CURRENCY}.",
        )
    if biller.offers and biller.offer_for(amount) is None:
        amounts = ", ".join(str(offer.amount) for offer in biller.offers)
        raise WireError(422, "AMOUNT_OUT_OF_RANGE", f"{biller.code} sells offers of {amounts} {CURRENCY} only.")


def quote_create(account: NiirpayAccount, body: dict[str, Any]) -> dict[str, Any]:
    biller = available_biller(account, body.get("biller_code"))
    reference = customer_reference_of(biller, body)
    customer = customer_get_or_create(biller, reference)
    amount, bill_id = _quoted_amount(biller, customer, body)
    _check_amount(biller, amount)
    fee = biller.fee_for(amount)
    offer = biller.offer_for(amount)
    quote_id = f"NQ{secrets.token_hex(10).upper()}"
    answer = {
        "quote_id": quote_id,
        "biller_code": biller.code,
        "customer_reference": reference,
        "bill_id": bill_id,
        "offer_code": offer.code if offer else None,
        "amount": str(amount),
        "fee": str(fee),
        "total": str(amount + fee),
        "currency": CURRENCY,
        "expires_at": wire_time(timezone.now() + timedelta(seconds=account.quote_ttl_seconds)),
    }
    SimObject.objects.create(
        provider=PROVIDER,
        kind=QUOTE_KIND,
        object_id=quote_id,
        reference=reference,
        status=QUOTE_OPEN,
        data={**answer, "account_id": account.account_id},
    )
    return answer
