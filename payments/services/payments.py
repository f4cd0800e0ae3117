"""Validation and acceptance of a bill payment (docs/architecture.md §3): the quote is checked, the bill is
confirmed still open at the provider (before any DB transaction), then one short DB transaction
marks the quote used, creates the transaction with its hold and the payment record; the
execution is enqueued after commit."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    NotFound,
    ProviderError,
)
from core.money import Money
from core.tasks import enqueue_on_commit
from ledger.models import Kind
from ledger.services import account_get_or_create_partner_account, transaction_create
from partners.limits import limit_allowance
from partners.models import Partner, Rail
from payments.models import BillPayment, Quote
from payments.services.catalog import PROVIDER, biller_get, bills_connector, raise_partner_error
from payments.services.quotes import amount_check

# A claimed payment still ``processing`` this long after its claim is looked at by the poller
# (a worker may have died between the claim and the provider call).
STALE_PROCESSING = timedelta(seconds=60)


def _quote_expired() -> BusinessRuleViolation:
    return BusinessRuleViolation("The quote has expired; ask for a new one.", code=ErrorCode.QUOTE_EXPIRED)


def _quote_used() -> Conflict:
    return Conflict("The quote was already used for a payment.", code=ErrorCode.QUOTE_ALREADY_USED)


def _bill_already_paid() -> BusinessRuleViolation:
    return BusinessRuleViolation("This bill is already paid.", code=ErrorCode.BILL_ALREADY_PAID)


def _quote_checked(*, partner: Partner, mode: str, quote_id: str) -> Quote:
    quote = Quote.objects.filter(partner=partner, mode=mode, public_id=quote_id).first()
    if quote is None:
        raise NotFound(f"No quote {quote_id!r}.")
    if quote.used_at is not None:
        raise _quote_used()
    if quote.expires_at <= timezone.now():
        raise _quote_expired()
    biller = biller_get(mode=mode, code=quote.biller_code)
    amount_check(biller=biller, amount_minor=quote.amount_minor)
    return quote


def _bill_still_open(*, mode: str, quote: Quote) -> None:
    """Ask the provider (outside any DB transaction) whether the biller answers and the quoted
    bill is still owed: 503 ``biller_unavailable`` or 422 ``bill_already_paid`` before any hold."""
    try:
        with bills_connector(mode) as connector:
            lookup = connector.lookup(biller_code=quote.biller_code, customer_reference=quote.customer_reference)
    except ProviderError as exc:
        raise_partner_error(exc)
    if quote.bill_id and quote.bill_id not in {bill.bill_id for bill in lookup.bills}:
        raise _bill_already_paid()


def _claim_quote(quote: Quote) -> None:
    """Mark the quote used with a conditional UPDATE; the loser of a race gets 409 or 422."""
    now = timezone.now()
    claimed = Quote.objects.filter(pk=quote.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if claimed != 1:
        current = Quote.objects.get(pk=quote.pk)
        raise _quote_used() if current.used_at is not None else _quote_expired()
    quote.used_at = now


def _accept(*, partner: Partner, mode: str, quote: Quote, client_reference: str) -> BillPayment:
    """The acceptance's one short DB transaction: claim the quote, hold amount + fee, record."""
    amounts = [quote.amount_minor]
    allowance = limit_allowance(partner=partner, mode=mode, rail=Rail.BILLS, currency=quote.currency, amounts=amounts)
    with db_transaction.atomic():
        allowance.consume()  # 422 limit_exceeded over the partner's daily limit (partners/limits.py)
        _claim_quote(quote)
        account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=quote.currency)
        txn = transaction_create(
            partner=partner,
            mode=mode,
            kind=Kind.BILL_PAYMENT,
            provider=PROVIDER,
            money=Money(quote.amount_minor, quote.currency),
            fee=Money(quote.fee_minor, quote.currency),
            client_reference=client_reference,
            hold_account=account,
            metadata={
                "quote_id": quote.public_id,
                "biller": quote.biller_code,
                "customer_reference": quote.customer_reference,
                "bill_id": quote.bill_id or None,
            },
        )
        return BillPayment.objects.create(
            partner=partner,
            mode=mode,
            quote=quote,
            transaction=txn,
            biller_code=quote.biller_code,
            customer_reference=quote.customer_reference,
            bill_id=quote.bill_id,
            next_poll_at=timezone.now() + STALE_PROCESSING,
        )


def bill_payment_create(*, partner: Partner, mode: str, quote_id: str, client_reference: str = "") -> BillPayment:
    """Accept the payment of a quote: hold amount + fee, record the payment, enqueue execution.

    Raises (and commits nothing): 404 unknown quote, 409 ``quote_already_used``, 422
    ``quote_expired`` / ``amount_out_of_range`` / ``bill_already_paid`` / ``insufficient_funds``,
    503 ``biller_unavailable``.
    """
    quote = _quote_checked(partner=partner, mode=mode, quote_id=quote_id)
    _bill_still_open(mode=mode, quote=quote)
    payment = _accept(partner=partner, mode=mode, quote=quote, client_reference=client_reference)
    enqueue_on_commit("payments.bill_payment_execute", payment.pk)  # by name: services never import tasks
    return payment
