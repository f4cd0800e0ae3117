"""The provider seen by the bills services: the connector of a mode, the cached catalogue,
lookups, and the translation of provider errors into partner-facing errors (docs/architecture.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, NoReturn

from django.core.cache import cache

from core.errors import (
    BusinessRuleViolation,
    Conflict,
    ErrorCode,
    FieldError,
    GatewayError,
    NotFound,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    ServiceUnavailable,
    ValidationFailed,
)
from core.money import Money
from partners.registry import connector_session
from partners.selectors import provider_connection_for_provider
from payments.providers.base import Biller, BillerCategory, BillerKind, BillPaymentProvider, Lookup, Offer

PROVIDER = "niirpay"
BILLERS_CACHE_SECONDS = 300  # the catalogue changes rarely; availability is re-checked at lookup and pay


@contextmanager
def bills_connector(mode: str) -> Iterator[BillPaymentProvider]:
    """The bill-payment connector of ``mode`` for the block (test mode reaches the sandbox only),
    built, recorded and closed by the registry's one lifecycle (``partners.registry``)."""
    try:
        connection = provider_connection_for_provider(provider_code=PROVIDER, mode=mode)
    except NotFound as exc:
        raise ServiceUnavailable(
            "Bill payments are not configured for this mode.", code=ErrorCode.PROVIDER_NOT_CONFIGURED
        ) from exc
    with connector_session(connection) as connector:
        yield connector


def _biller_to_cache(biller: Biller) -> dict[str, Any]:
    return asdict(biller)


def _biller_from_cache(data: dict[str, Any]) -> Biller:
    offers = tuple(Offer(**offer) for offer in data["offers"])
    return Biller(
        **{**data, "offers": offers, "category": BillerCategory(data["category"]), "kind": BillerKind(data["kind"])}
    )


def _cache_key(mode: str) -> str:
    return f"payments:billers:{PROVIDER}:{mode}"


def biller_list(*, mode: str) -> list[Biller]:
    """The provider's catalogue, cached for a few minutes per mode."""
    cached = cache.get(_cache_key(mode))
    if cached is not None:
        return [_biller_from_cache(item) for item in cached]
    try:
        with bills_connector(mode) as connector:
            billers = connector.list_billers()
    except ProviderError as exc:
        raise_partner_error(exc)
    cache.set(_cache_key(mode), [_biller_to_cache(biller) for biller in billers], BILLERS_CACHE_SECONDS)
    return billers


def biller_get(*, mode: str, code: str) -> Biller:
    """One biller of the catalogue; 422 ``unknown_biller`` when there is none."""
    for biller in biller_list(mode=mode):
        if biller.code == code:
            return biller
    raise BusinessRuleViolation(
        f"There is no biller {code!r}.", code=ErrorCode.UNKNOWN_BILLER, errors=[FieldError("biller", "unknown")]
    )


def biller_check(*, biller: Biller, customer_reference: str) -> None:
    """Refuse a reference of the wrong format (400) before any provider call.

    Availability is left to the provider's live answer (503 ``biller_unavailable``): the cached
    catalogue may say a biller is down minutes after it came back.
    """
    if not biller.accepts_reference(customer_reference):
        raise ValidationFailed(
            f"{biller.reference_label}: expected a reference like {biller.reference_example}.",
            code=ErrorCode.INVALID_CUSTOMER_REFERENCE,
            errors=[FieldError("customer_reference", f"must match {biller.reference_pattern}")],
        )


def customer_lookup(*, mode: str, biller_code: str, customer_reference: str) -> Lookup:
    """Who the customer is and what can be paid (no money moves)."""
    biller = biller_get(mode=mode, code=biller_code)
    biller_check(biller=biller, customer_reference=customer_reference)
    try:
        with bills_connector(mode) as connector:
            return connector.lookup(biller_code=biller.code, customer_reference=customer_reference)
    except ProviderError as exc:
        raise_partner_error(exc)


_REJECTIONS: dict[ErrorCode, type[GatewayError]] = {
    ErrorCode.QUOTE_ALREADY_USED: Conflict,
    ErrorCode.NOT_FOUND: NotFound,
    ErrorCode.INVALID_CUSTOMER_REFERENCE: ValidationFailed,
    ErrorCode.VALIDATION_ERROR: ValidationFailed,
    ErrorCode.PROVIDER_NOT_CONFIGURED: ServiceUnavailable,
}


def raise_partner_error(exc: ProviderError) -> NoReturn:
    """Raise the partner-facing error for a provider error of a call that moved no money."""
    if isinstance(exc, ProviderUnavailable):
        is_biller = exc.code is ErrorCode.BILLER_UNAVAILABLE
        code = ErrorCode.BILLER_UNAVAILABLE if is_biller else ErrorCode.PROVIDER_UNAVAILABLE
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        raise ServiceUnavailable("The biller cannot be reached right now; retry later.", code=code, headers=headers)
    if isinstance(exc, ProviderRejected):
        error_class = _REJECTIONS.get(exc.code, BusinessRuleViolation)
        raise error_class(_REJECTION_MESSAGES.get(exc.code, "The provider refused the request."), code=exc.code)
    raise ServiceUnavailable("The provider's answer was lost; retry later.", code=ErrorCode.PROVIDER_UNAVAILABLE)


_REJECTION_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.BILL_ALREADY_PAID: "This bill is already paid.",
    ErrorCode.AMOUNT_OUT_OF_RANGE: "The amount is outside what the biller accepts.",
    ErrorCode.QUOTE_EXPIRED: "The quote has expired; ask for a new one.",
    ErrorCode.QUOTE_ALREADY_USED: "The quote was already used.",
    ErrorCode.NOT_FOUND: "No such bill for this customer.",
    ErrorCode.UNKNOWN_BILLER: "There is no such biller.",
    ErrorCode.INVALID_CUSTOMER_REFERENCE: "The customer reference is not valid for this biller.",
    ErrorCode.UNSUPPORTED_CURRENCY: "The biller does not accept this currency.",
    ErrorCode.PROVIDER_NOT_CONFIGURED: "Bill payments are not available right now.",
}


def provider_float(mode: str) -> Money:
    """Our prepaid float at the provider in ``mode`` (shown in GET /api/v1/balances)."""
    with bills_connector(mode) as connector:
        return connector.balance()
