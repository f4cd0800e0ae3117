"""Customers of the simulated billers and their open bills, kept as sandbox documents.

A customer appears the first time a reference of the right format is looked up, with a name
and (for postpaid billers) open bills derived from the reference, so a given reference always
shows the same customer. Paid bills stay paid: the document is the biller's memory. When a
customer's last open bill is paid, the biller issues the next month's bill, so every reference
(the catalogue's ``reference_example`` first of all) can be paid again and again in test mode.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from sandbox.models import SimObject
from sandbox.niirpay.accounts import PROVIDER
from sandbox.niirpay.catalog import SimBiller

KIND = "customer"
OPEN = "OPEN"
PAID = "PAID"

_FIRST_NAMES = ("Awa", "Moussa", "Fatou", "Cheikh", "Aminata", "Ousmane", "Mariama", "Ibrahima", "Khady", "Modou")
_LAST_NAMES = ("Ndiaye", "Diop", "Sow", "Fall", "Ba", "Sarr", "Diallo", "Gueye", "Faye", "Mbaye")
# How many open bills a new postpaid customer has, and the range of their amounts (XOF).
_OPEN_BILLS = {"SENELEC": (2, 5_000, 60_000), "SENEAU": (1, 3_000, 30_000)}
_DEFAULT_OPEN_BILLS = (1, 2_000, 20_000)


def _seed(biller_code: str, customer_reference: str) -> int:
    return int(hashlib.sha256(f"{biller_code}:{customer_reference}".encode()).hexdigest(), 16)


def _month_before(day: date, months: int) -> date:
    month_index = day.year * 12 + (day.month - 1) - months
    return date(month_index // 12, month_index % 12 + 1, 1)


def _bill(biller: SimBiller, customer_reference: str, seed: int, period_start: date) -> dict[str, Any]:
    _, low, high = _OPEN_BILLS.get(biller.code, _DEFAULT_OPEN_BILLS)
    # whole multiples of 5 XOF, as printed on Senegalese bills; the same period, the same amount
    month_index = period_start.year * 12 + period_start.month
    amount = low + (seed >> (8 * (month_index % 24))) % ((high - low) // 5) * 5
    due = _month_before(period_start, -1) + timedelta(days=14)
    return {
        "bill_id": f"{biller.code}-{customer_reference}-{period_start:%Y%m}",
        "period": f"{period_start:%Y-%m}",
        "amount": amount,
        "due_date": due.isoformat(),
        "status": OPEN,
    }


def _new_bills(biller: SimBiller, customer_reference: str, seed: int, today: date) -> list[dict[str, Any]]:
    count, _, _ = _OPEN_BILLS.get(biller.code, _DEFAULT_OPEN_BILLS)
    return [
        _bill(biller, customer_reference, seed, _month_before(today, months_back))
        for months_back in range(count, 0, -1)
    ]


def customer_get_or_create(biller: SimBiller, customer_reference: str) -> SimObject:
    seed = _seed(biller.code, customer_reference)
    name = f"{_FIRST_NAMES[seed % 10]} {_LAST_NAMES[(seed // 10) % 10]}"
    bills = _new_bills(biller, customer_reference, seed, timezone.localdate()) if biller.is_postpaid else []
    row, _ = SimObject.objects.get_or_create(
        provider=PROVIDER,
        kind=KIND,
        object_id=f"{biller.code}:{customer_reference}",
        defaults={"reference": customer_reference, "data": {"name": name, "bills": bills}},
    )
    return row


def customer_lock(biller_code: str, customer_reference: str) -> SimObject:
    """The customer row, locked until the surrounding transaction ends (one payment at a time)."""
    return SimObject.objects.select_for_update().get(
        provider=PROVIDER, kind=KIND, object_id=f"{biller_code}:{customer_reference}"
    )


def find_bill(customer: SimObject, bill_id: str) -> dict[str, Any] | None:
    return next((bill for bill in customer.data["bills"] if bill["bill_id"] == bill_id), None)


def open_bills(customer: SimObject) -> list[dict[str, Any]]:
    return [bill for bill in customer.data["bills"] if bill["status"] == OPEN]


def mark_bill_paid(customer: SimObject, biller: SimBiller, bill_id: str, payment_reference: str) -> None:
    """Settle a bill; when it was the customer's last open one, the next month's bill is issued."""
    for bill in customer.data["bills"]:
        if bill["bill_id"] == bill_id:
            bill["status"] = PAID
            bill["paid_by"] = payment_reference
    if not open_bills(customer):
        latest = max(date.fromisoformat(bill["period"] + "-01") for bill in customer.data["bills"])
        seed = _seed(biller.code, customer.reference)
        customer.data["bills"].append(_bill(biller, customer.reference, seed, _month_before(latest, -1)))
    customer.save(update_fields=["data", "updated_at"])
