"""Input validation and public JSON of the bills API (docs/architecture.md §5: amounts are decimal strings)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.fields import StrictCharField
from core.api.pagination import page_serializer
from core.money import Money, MoneyError, format_minor
from ledger.serializers import TransactionSerializer, transaction_representation
from payments.models import BillPayment, Quote
from payments.providers.base import Biller, Lookup, Offer


class LookupInput(serializers.Serializer):
    biller = StrictCharField(max_length=40)
    customer_reference = StrictCharField(max_length=64, trim_whitespace=False)


class QuoteInput(serializers.Serializer):
    """A bill (``bill_id`` from the lookup) or a prepaid ``amount``; the validated data carries the
    amount as ``money`` (a ``Money``), parsed here so the view has nothing left to check."""

    biller = StrictCharField(max_length=40)
    customer_reference = StrictCharField(max_length=64, trim_whitespace=False)
    bill_id = StrictCharField(max_length=80, required=False)
    # A decimal string, parsed strictly by Money.parse (a JSON number is refused, not coerced).
    amount = StrictCharField(
        max_length=32, trim_whitespace=False, required=False, help_text='decimal string in major units, e.g. "5000"'
    )
    currency = StrictCharField(max_length=3, required=False, default="XOF")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Say what is wrong: the biller's kind is checked by the service (bill → bill_id, prepaid → amount).
        if "bill_id" in attrs and "amount" in attrs:
            raise serializers.ValidationError(
                {"amount": "send bill_id (a bill biller, from the lookup) or amount (a prepaid biller), not both"}
            )
        if "bill_id" not in attrs and "amount" not in attrs:
            raise serializers.ValidationError(
                {"bill_id": "required: the bill_id of an open bill (from the lookup), or amount for a prepaid biller"}
            )
        if "amount" in attrs:
            try:
                attrs["money"] = Money.parse(attrs.pop("amount"), attrs["currency"])
            except MoneyError as exc:
                raise serializers.ValidationError({"amount": exc.detail}) from None
        return attrs


class PaymentInput(serializers.Serializer):
    quote_id = StrictCharField(max_length=40)
    client_reference = StrictCharField(max_length=100, required=False, default="")


def offer_representation(offer: Offer, currency: str) -> dict[str, Any]:
    return {"code": offer.code, "name": offer.name, "amount": format_minor(offer.amount_minor, currency)}


def biller_representation(biller: Biller) -> dict[str, Any]:
    return {
        "code": biller.code,
        "name": biller.name,
        "category": biller.category.value,
        "kind": biller.kind.value,
        "available": biller.is_available,
        "reference_label": biller.reference_label,
        "reference_pattern": biller.reference_pattern,
        "reference_example": biller.reference_example,
        "min_amount": format_minor(biller.min_amount_minor, biller.currency),
        "max_amount": format_minor(biller.max_amount_minor, biller.currency),
        "currency": biller.currency,
        "offers": [offer_representation(offer, biller.currency) for offer in biller.offers],
    }


def lookup_representation(lookup: Lookup) -> dict[str, Any]:
    currency = lookup.currency
    prepaid = lookup.min_amount_minor is not None and lookup.max_amount_minor is not None
    return {
        "object": "bill_lookup",
        "biller": lookup.biller_code,
        "customer_reference": lookup.customer_reference,
        "customer_name": lookup.customer_name,
        "currency": currency,
        "bills": [
            {
                "bill_id": bill.bill_id,
                "period": bill.period,
                "amount": format_minor(bill.amount_minor, currency),
                "due_date": bill.due_date.isoformat(),
            }
            for bill in lookup.bills
        ],
        "min_amount": format_minor(lookup.min_amount_minor, currency) if prepaid else None,  # type: ignore[arg-type]
        "max_amount": format_minor(lookup.max_amount_minor, currency) if prepaid else None,  # type: ignore[arg-type]
        "offers": [offer_representation(offer, currency) for offer in lookup.offers],
    }


def quote_representation(quote: Quote) -> dict[str, Any]:
    return {
        "id": quote.public_id,
        "object": "bill_quote",
        "biller": quote.biller_code,
        "customer_reference": quote.customer_reference,
        "bill_id": quote.bill_id or None,
        "amount": format_minor(quote.amount_minor, quote.currency),
        "fee": format_minor(quote.fee_minor, quote.currency),
        "total": format_minor(quote.total_minor, quote.currency),
        "currency": quote.currency,
        "expires_at": quote.expires_at.isoformat(),
        "used": quote.used_at is not None,
    }


def bill_payment_representation(payment: BillPayment) -> dict[str, Any]:
    quote = payment.quote
    has_receipt = bool(payment.receipt_number)
    return {
        "id": payment.public_id,
        "object": "bill_payment",
        "quote_id": quote.public_id,
        "biller": payment.biller_code,
        "customer_reference": payment.customer_reference,
        "bill_id": payment.bill_id or None,
        "amount": format_minor(quote.amount_minor, quote.currency),
        "fee": format_minor(quote.fee_minor, quote.currency),
        "total": format_minor(quote.total_minor, quote.currency),
        "currency": quote.currency,
        "status": payment.transaction.status,
        "receipt": {
            "number": payment.receipt_number,
            "tokens": list(payment.tokens),
            "kwh": str(payment.kwh) if payment.kwh is not None else None,
            "provider_payment_id": payment.provider_payment_id or None,
        }
        if has_receipt
        else None,
        "transaction": transaction_representation(payment.transaction),
        "created_at": payment.created_at.isoformat(),
    }


# --- OpenAPI documentation of the responses (the views render with the functions above) --------


class OfferSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    amount = serializers.CharField(help_text="decimal string in major units")


class BillerSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    kind = serializers.CharField(help_text="bill (paid in full by bill_id) or prepaid (an amount)")
    available = serializers.BooleanField()
    reference_label = serializers.CharField()
    reference_pattern = serializers.CharField()
    reference_example = serializers.CharField()
    min_amount = serializers.CharField()
    max_amount = serializers.CharField()
    currency = serializers.CharField()
    offers = OfferSerializer(many=True)


BillerPageSerializer = page_serializer("BillerPageSerializer", BillerSerializer)


class OpenBillSerializer(serializers.Serializer):
    bill_id = serializers.CharField()
    period = serializers.CharField()
    amount = serializers.CharField()
    due_date = serializers.DateField()


class LookupSerializer(serializers.Serializer):
    object = serializers.CharField(default="bill_lookup")
    biller = serializers.CharField()
    customer_reference = serializers.CharField()
    customer_name = serializers.CharField()
    currency = serializers.CharField()
    bills = OpenBillSerializer(many=True)
    min_amount = serializers.CharField(allow_null=True)
    max_amount = serializers.CharField(allow_null=True)
    offers = OfferSerializer(many=True)


class QuoteSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="qte_…")
    object = serializers.CharField(default="bill_quote")
    biller = serializers.CharField()
    customer_reference = serializers.CharField()
    bill_id = serializers.CharField(allow_null=True)
    amount = serializers.CharField()
    fee = serializers.CharField()
    total = serializers.CharField()
    currency = serializers.CharField()
    expires_at = serializers.DateTimeField()
    used = serializers.BooleanField()


class ReceiptSerializer(serializers.Serializer):
    number = serializers.CharField()
    tokens = serializers.ListField(child=serializers.CharField())
    kwh = serializers.CharField(allow_null=True)
    provider_payment_id = serializers.CharField(allow_null=True)


class BillPaymentSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="pay_…")
    object = serializers.CharField(default="bill_payment")
    quote_id = serializers.CharField()
    biller = serializers.CharField()
    customer_reference = serializers.CharField()
    bill_id = serializers.CharField(allow_null=True)
    amount = serializers.CharField()
    fee = serializers.CharField()
    total = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField()
    receipt = ReceiptSerializer(allow_null=True)
    transaction = TransactionSerializer()
    created_at = serializers.DateTimeField()
