"""Input serializers of the mobile-money partner API (one dialect: DRF serializers, problem+json
400 with one error per field, rendered by ``core.api.errors``).

A bulk batch of 10,000 items must be accepted in a few seconds (bench/bench_mobilemoney.py, P5),
and DRF spends about 0.3 ms on an item: 3 s more per batch. So ``items_validate`` has a fast path:
an item that plainly meets ``CashInItemSerializer``'s rules (``_plainly_valid``: exact types, no
whitespace to trim) is taken as is; any other item goes through ONE serializer instance, which has
the last word and gives the errors — so the fast path can only accept a subset of what the
serializer accepts, never more. Each error names its item (``items[3].msisdn`` for JSON,
``line 4.msisdn`` for a CSV upload), every error of the batch reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.api.errors import flatten_validation_errors
from core.api.fields import StrictCharField, StrictRegexField, text_problem
from core.api.pagination import PageQuerySerializer, page_serializer
from core.errors import BusinessRuleViolation, ErrorCode, FieldError, ValidationFailed
from core.money import Money, MoneyError
from ledger.serializers import TransactionSerializer, TransactionWithEventsSerializer
from ledger.states import Status
from mobilemoney.connectors import provider_is_known, rail_providers
from mobilemoney.providers.base import CheckoutStatus, PaymentStatus
from mobilemoney.providers.msisdn import msisdn_problem
from mobilemoney.validation import (
    CLIENT_REFERENCE_RE,
    CURRENCIES,
    MAX_ITEMS,
    CashInInput,
    CheckoutFields,
)

URL_RE = r"^https?://[^\s]{1,990}$"


class MsisdnField(StrictCharField):
    """A wallet number of the country our providers serve (``msisdn_problem``, the one rule:
    docs/glossary.md "MSISDN"), so that no provider ever receives a number no wallet can have."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=16, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        problem = msisdn_problem(value)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return value


class ProviderField(StrictCharField):
    """A provider code of the rail. Providers are data (docs/adding-a-provider.md), so the codes
    are read from the provider connections, not listed here: ``wave``, ``orange_money`` and any
    provider added since (``wave_ci``…)."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not provider_is_known(value):
            raise serializers.ValidationError(f"must be one of {', '.join(rail_providers())}")
        return value


def provider_field(**kwargs: Any) -> ProviderField:
    return ProviderField(max_length=20, help_text="a provider code: wave, orange_money or one added as data", **kwargs)


def currency_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=CURRENCIES, error_messages={"invalid_choice": f"must be one of {', '.join(CURRENCIES)}"}
    )


def client_reference_field() -> serializers.RegexField:
    return StrictRegexField(
        CLIENT_REFERENCE_RE, max_length=100, error_messages={"invalid": "1-100 characters of [A-Za-z0-9_.:-]"}
    )


def money_of(attrs: Mapping[str, Any]) -> Money:
    """The amount (a decimal string) in the currency, or a field error on ``amount``."""
    try:
        return Money.parse(attrs["amount"], attrs["currency"])
    except MoneyError as exc:
        raise serializers.ValidationError({"amount": exc.detail}) from exc


class CashInItemSerializer(serializers.Serializer):
    """One cash-in: a payout of ``amount`` ``currency`` to the wallet ``msisdn``."""

    msisdn = MsisdnField()
    amount = StrictCharField(max_length=32, help_text='a decimal string, e.g. "1500"')
    currency = currency_field()
    client_reference = client_reference_field()
    recipient_name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    reason = StrictCharField(max_length=140, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> CashInInput:
        return CashInInput(
            msisdn=attrs["msisdn"],
            money=money_of(attrs),
            client_reference=attrs["client_reference"],
            recipient_name=attrs["recipient_name"],
            reason=attrs["reason"],
        )


class CashInCreateSerializer(CashInItemSerializer):
    """POST /mobile-money/cash-ins."""

    provider = provider_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
        return {"provider": attrs["provider"], "cash_in": super().validate(attrs)}


def items_validate(items: Sequence[Any], prefixes: Sequence[str]) -> list[CashInInput]:
    """Every item checked by one ``CashInItemSerializer``; duplicated client references refused;
    all errors at once (``ValidationFailed``), each field named ``<prefix><field>``."""
    if len(items) > MAX_ITEMS:
        raise BusinessRuleViolation(
            f"A batch holds at most {MAX_ITEMS} items; this one has {len(items)}.",
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            status=413,
        )
    checker = CashInItemSerializer()
    errors: list[FieldError] = []
    valid: list[CashInInput] = []
    first_seen: dict[str, str] = {}
    for item, prefix in zip(items, prefixes, strict=True):
        data = _plainly_valid(item)
        if data is None:
            try:
                data = checker.run_validation(item)
            except serializers.ValidationError as exc:
                errors.extend(flatten_validation_errors(exc.detail, prefix.rstrip(".")))
                continue
        if data.client_reference in first_seen:
            errors.append(FieldError(f"{prefix}client_reference", f"duplicate of {first_seen[data.client_reference]}"))
        first_seen.setdefault(data.client_reference, prefix.rstrip("."))
        valid.append(data)
    if errors:
        raise ValidationFailed(f"{len(errors)} problem(s) in the batch; nothing was created.", errors=errors)
    return valid


def _plainly_valid(item: Any) -> CashInInput | None:
    """The item when it meets ``CashInItemSerializer``'s rules as sent (strings, nothing to trim);
    None otherwise (then the serializer decides). Never accepts what the serializer would refuse."""
    if not isinstance(item, dict):
        return None
    msisdn, amount, currency = item.get("msisdn"), item.get("amount"), item.get("currency")
    reference = item.get("client_reference")
    texts = [item.get("recipient_name", ""), item.get("reason", "")]
    if not (
        isinstance(msisdn, str)
        and len(msisdn) <= 16
        and msisdn_problem(msisdn) is None
        and isinstance(amount, str)
        and len(amount) <= 32
        and currency in CURRENCIES
        and isinstance(reference, str)
        and CLIENT_REFERENCE_RE.search(reference)
        and all(isinstance(text, str) and text == text.strip() and text_problem(text) is None for text in texts)
        and len(texts[0]) <= 100
        and len(texts[1]) <= 140
    ):
        return None
    try:
        money = Money.parse(amount, str(currency))
    except MoneyError:
        return None
    return CashInInput(msisdn, money, reference, texts[0], texts[1])


class CashInItemListSerializer(serializers.ListSerializer):
    """The ``items`` of a JSON batch: 1 to 10,000 cash-ins, validated by ``items_validate``."""

    def to_internal_value(self, data: Any) -> list[CashInInput]:
        if not isinstance(data, list) or not data:
            raise serializers.ValidationError("a non-empty list")
        return items_validate(data, [f"items[{index}]." for index in range(len(data))])


class BatchItemSerializer(CashInItemSerializer):
    class Meta:
        list_serializer_class = CashInItemListSerializer


class BatchCreateSerializer(serializers.Serializer):
    """POST /mobile-money/cash-in-batches (JSON); a CSV upload names the provider in the query."""

    provider = provider_field()
    items = BatchItemSerializer(many=True)


class BatchCsvQuerySerializer(serializers.Serializer):
    provider = provider_field()


class BatchItemsQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, help_text="csv: the result file")


class CheckoutSessionCreateSerializer(serializers.Serializer):
    """POST /mobile-money/checkout-sessions."""

    provider = provider_field()
    amount = StrictCharField(max_length=32, help_text='a decimal string, e.g. "2500"')
    currency = currency_field()
    client_reference = client_reference_field()
    success_url = StrictRegexField(URL_RE, error_messages={"invalid": "must be an http(s) URL"})
    error_url = StrictRegexField(URL_RE, error_messages={"invalid": "must be an http(s) URL"})
    restrict_payer_mobile = MsisdnField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        fields = CheckoutFields(
            money=money_of(attrs),
            client_reference=attrs["client_reference"],
            success_url=attrs["success_url"],
            error_url=attrs["error_url"],
            restrict_payer_msisdn=attrs.get("restrict_payer_mobile"),
        )
        return {"provider": attrs["provider"], "checkout": fields}


class AwareDateTimeField(serializers.CharField):
    """An ISO 8601 date-time with its time zone (a naive one would be read in our zone, silently)."""

    def to_internal_value(self, data: Any) -> Any:
        moment = parse_datetime(str(super().to_internal_value(data)))
        if moment is None or moment.tzinfo is None:
            raise serializers.ValidationError("an ISO 8601 date-time with a time zone")
        return moment


class CheckoutSearchSerializer(PageQuerySerializer):
    """GET /mobile-money/checkout-sessions: the search filters and the page."""

    client_reference = serializers.CharField(max_length=100, required=False)
    status = serializers.ChoiceField(choices=[s.value for s in CheckoutStatus], required=False)
    provider = provider_field(required=False)
    created_after = AwareDateTimeField(required=False)
    created_before = AwareDateTimeField(required=False)

    def filters(self) -> dict[str, Any]:
        lookups = {"created_after": "created_at__gte", "created_before": "created_at__lt"}
        names = ("client_reference", "status", "provider", *lookups)
        data = self.validated_data
        return {lookups.get(name, name): data[name] for name in names if data.get(name)}


class SandboxPaySerializer(serializers.Serializer):
    """POST /test-helpers/checkout-sessions/{id}/pay: the sandbox customer's number."""

    payer_msisdn = MsisdnField()


# --- OpenAPI documentation of the responses (the views render with the representation functions of
# mobilemoney/apis/; these serializers only describe that JSON, the house pattern of ledger/serializers.py)


class CashInDetailsSerializer(serializers.Serializer):
    msisdn = serializers.CharField(help_text="the wallet credited, E.164")
    recipient_name = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


class CashInSerializer(TransactionSerializer):
    """A cash-in: the transaction (one shape for every rail) and the cash-in's own fields."""

    cash_in = CashInDetailsSerializer()


class CashInWithEventsSerializer(TransactionWithEventsSerializer):
    cash_in = CashInDetailsSerializer()


class StatusCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.CharField(help_text="decimal string in major units")


BATCH_PROGRESS_STATUSES = [s for s in Status.values if s not in (Status.CANCELLED, Status.EXPIRED)]

BatchProgressSerializer = type(
    "CashInBatchProgressSerializer",
    (serializers.Serializer,),
    {status: StatusCountSerializer() for status in BATCH_PROGRESS_STATUSES},
)


class CashInBatchSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="bat_…")
    object = serializers.CharField(default="cash_in_batch")
    provider = serializers.CharField()
    mode = serializers.CharField()
    status = serializers.CharField(help_text="processing | completed (every item final)")
    item_count = serializers.IntegerField()
    total = serializers.CharField(help_text="decimal string in major units")
    currency = serializers.CharField()
    progress = BatchProgressSerializer(help_text="count and amount of the items in each transaction status")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class CashInBatchRetriedSerializer(CashInBatchSerializer):
    retried = serializers.IntegerField(help_text="how many failed items were sent again (new transactions)")


class CashInBatchItemSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        help_text="0-based index of the item in the batch (JSON items[i]; a CSV row is line i + 2)"
    )
    client_reference = serializers.CharField(allow_null=True)
    msisdn = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField(help_text="the transaction's status")
    failure_code = serializers.CharField(allow_null=True)
    transaction_id = serializers.CharField()
    provider_reference = serializers.CharField(allow_null=True)


CashInBatchItemPageSerializer = page_serializer("CashInBatchItemPageSerializer", CashInBatchItemSerializer)


class QrCodeSerializer(serializers.Serializer):
    payload = serializers.CharField(allow_null=True, help_text="the text the QR code encodes")
    png_base64 = serializers.CharField(allow_null=True, help_text="the QR code as a PNG image, base64")


class CheckoutSessionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="cos_…")
    object = serializers.CharField(default="checkout_session")
    provider = serializers.CharField()
    mode = serializers.CharField()
    status = serializers.CharField(help_text=" | ".join(s.value for s in CheckoutStatus))
    payment_status = serializers.CharField(help_text=" | ".join(s.value for s in PaymentStatus))
    amount = serializers.CharField(help_text="decimal string in major units")
    currency = serializers.CharField()
    client_reference = serializers.CharField()
    payment_url = serializers.CharField(allow_null=True, help_text="where to send the customer to pay")
    qr_code = QrCodeSerializer()
    app_links = serializers.DictField(
        child=serializers.CharField(), help_text="wallet app name → deep link (Orange Money; empty for Wave)"
    )
    payer_msisdn = serializers.CharField(allow_null=True)
    last_payment_failure = serializers.CharField(allow_null=True, help_text="code of the last failed payment")
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    transaction = TransactionSerializer(help_text="the payment's transaction")
    refund = TransactionSerializer(allow_null=True, help_text="the refund's transaction, once requested")


CheckoutSessionPageSerializer = page_serializer("CheckoutSessionPageSerializer", CheckoutSessionSerializer)
