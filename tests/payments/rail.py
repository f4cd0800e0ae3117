"""Helpers for tests of the bill-payment rail, written against the BillPaymentProvider interface
only (no provider's biller codes), so they serve every connector and the API tests alike."""

from __future__ import annotations

from core.money import Money
from payments.providers.base import Biller, BillerCategory, BillerKind, BillPaymentProvider, Quote
from sandbox.services import effects_count


def paid(connector_name: str, reference: str) -> int:
    return effects_count(provider=connector_name, reference=reference, effect="bill_payment")


def biller_of(connector: BillPaymentProvider, kind: BillerKind, category: BillerCategory | None = None) -> Biller:
    for biller in connector.list_billers():
        if biller.kind is kind and category in (None, biller.category) and biller.is_available:
            return biller
    raise AssertionError(f"the catalogue has no available {kind} biller of category {category}")


def reference_ending(biller: Biller, suffix: str) -> str:
    reference = biller.reference_example[: -len(suffix)] + suffix
    assert biller.accepts_reference(reference), reference
    return reference


def prepaid_amount(biller: Biller) -> Money:
    minor = biller.offers[0].amount_minor if biller.offers else max(biller.min_amount_minor, 5_000)
    return Money(minor, biller.currency)


def quote_for(connector: BillPaymentProvider, biller: Biller, customer_reference: str) -> Quote:
    """Look the customer up, then quote the oldest open bill or a valid prepaid amount."""
    lookup = connector.lookup(biller_code=biller.code, customer_reference=customer_reference)
    if biller.kind is BillerKind.BILL:
        assert lookup.bills, f"{biller.code} {customer_reference} has no open bill"
        return connector.quote(
            biller_code=biller.code, customer_reference=customer_reference, bill_id=lookup.bills[0].bill_id
        )
    return connector.quote(
        biller_code=biller.code, customer_reference=customer_reference, amount=prepaid_amount(biller)
    )
