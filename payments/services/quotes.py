"""Quotes (the simulation step): the provider prices a payment, we keep it as ``qte_…``."""

from __future__ import annotations

from core.errors import BusinessRuleViolation, ErrorCode, FieldError, ProviderError, ValidationFailed
from core.money import Money
from partners.models import Partner
from payments.models import Quote
from payments.providers.base import Biller, BillerKind
from payments.services.catalog import (
    PROVIDER,
    biller_check,
    biller_get,
    bills_connector,
    raise_partner_error,
)


def amount_check(*, biller: Biller, amount_minor: int) -> None:
    """422 ``amount_out_of_range`` outside the biller's limits (or not one of its offers)."""
    in_range = biller.min_amount_minor <= amount_minor <= biller.max_amount_minor
    is_offer = not biller.offers or any(offer.amount_minor == amount_minor for offer in biller.offers)
    if biller.kind is BillerKind.PREPAID and not is_offer:
        in_range = False
    if not in_range:
        minimum = Money(biller.min_amount_minor, biller.currency).to_decimal_string()
        maximum = Money(biller.max_amount_minor, biller.currency).to_decimal_string()
        raise BusinessRuleViolation(
            f"{biller.name} accepts {minimum} to {maximum} {biller.currency}"
            + (" and only the amounts of its offers." if biller.offers else "."),
            code=ErrorCode.AMOUNT_OUT_OF_RANGE,
            errors=[FieldError("amount", "out of range")],
        )


def _check_request(*, biller: Biller, bill_id: str | None, amount: Money | None) -> None:
    if biller.kind is BillerKind.BILL and (bill_id is None or amount is not None):
        raise ValidationFailed(
            f"{biller.name} bills are paid in full: send bill_id (from the lookup), not amount.",
            errors=[FieldError("bill_id", "required for this biller")],
        )
    if biller.kind is BillerKind.PREPAID and (amount is None or bill_id is not None):
        raise ValidationFailed(
            f"{biller.name} is prepaid: send amount, not bill_id.",
            errors=[FieldError("amount", "required for this biller")],
        )
    if amount is not None:
        if amount.currency != biller.currency:
            raise ValidationFailed(
                f"{biller.name} is paid in {biller.currency}.",
                code=ErrorCode.UNSUPPORTED_CURRENCY,
                errors=[FieldError("currency", f"must be {biller.currency}")],
            )
        amount_check(biller=biller, amount_minor=amount.minor)


def quote_create(
    *,
    partner: Partner,
    mode: str,
    biller_code: str,
    customer_reference: str,
    bill_id: str | None = None,
    amount: Money | None = None,
) -> Quote:
    """Ask the provider to price one payment and keep its quote. Moves no money."""
    biller = biller_get(mode=mode, code=biller_code)
    biller_check(biller=biller, customer_reference=customer_reference)
    _check_request(biller=biller, bill_id=bill_id, amount=amount)
    try:
        with bills_connector(mode) as connector:
            priced = connector.quote(
                biller_code=biller.code, customer_reference=customer_reference, bill_id=bill_id, amount=amount
            )
    except ProviderError as exc:
        raise_partner_error(exc)
    return Quote.objects.create(
        partner=partner,
        mode=mode,
        provider=PROVIDER,
        biller_code=biller.code,
        biller_kind=biller.kind.value,
        customer_reference=customer_reference,
        bill_id=priced.bill_id or "",
        amount_minor=priced.amount_minor,
        fee_minor=priced.fee_minor,
        total_minor=priced.total_minor,
        currency=priced.currency,
        provider_quote_id=priced.quote_id,
        expires_at=priced.expires_at,
    )
