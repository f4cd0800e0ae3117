"""Reads of the bills rail."""

from __future__ import annotations

import time

from django.db.models import Q

from ledger.states import FINAL, Status
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


SETTLED = frozenset({*FINAL, Status.SUCCEEDED})
WAIT_INTERVAL_SECONDS = 0.2


def bill_payment_wait_settled(*, payment: BillPayment, seconds: float) -> BillPayment:
    """The payment as it stands once settled, or after ``seconds`` (``Prefer: wait``)."""
    deadline = time.monotonic() + seconds
    while True:
        current = BillPayment.objects.select_related("quote", "transaction", "transaction__partner").get(pk=payment.pk)
        if current.transaction.status in SETTLED or time.monotonic() >= deadline:
            return current
        time.sleep(WAIT_INTERVAL_SECONDS)


def bill_payment_about(transaction_id: int) -> BillPayment | None:
    """The bill payment of a ledger transaction (the ops console's timeline)."""
    return BillPayment.objects.filter(transaction_id=transaction_id).first()
