"""Reads of the bills rail."""

from __future__ import annotations

from django.db.models import Q

from partners.models import Partner
from payments.models import BillPayment


def bill_payment_get(*, partner: Partner, mode: str, payment_id: str) -> BillPayment | None:
    """One payment of the partner, by its ``pay_…`` id or its transaction's ``txn_…`` id."""
    return (
        BillPayment.objects.select_related("quote", "transaction", "transaction__partner")
        .filter(partner=partner, mode=mode)
        .filter(Q(public_id=payment_id) | Q(transaction__public_id=payment_id))
        .first()
    )
