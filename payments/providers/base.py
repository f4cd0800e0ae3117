"""The bill-payment rail's provider interface (docs/architecture.md §6, docs/conventions.md §15).

The flow follows the bill-payment model of comparable aggregators (the status note of
docs/providers/niirpay.md): catalogue → lookup → quote → pay (idempotent reference) → status →
receipt. Every value that crosses this interface is a frozen dataclass; amounts are integer minor
units next to their ISO 4217 currency, never floats.

Error semantics, shared by every method (core/errors.py):

- ``ProviderRejected``: the provider refused for good and nothing was paid; ``code`` says why
  (``unknown_biller``, ``invalid_customer_reference``, ``amount_out_of_range``,
  ``bill_already_paid``, ``quote_expired``, ``quote_already_used``, ``not_found``,
  ``idempotency_key_reused``, ``validation_error``, ``unsupported_currency``,
  ``provider_not_configured``, ``provider_rejected``). Do not retry.
- ``ProviderUnavailable``: no usable answer and nothing to resolve (connection refused, 429;
  on every method but ``pay`` also timeouts, 5xx and unreadable answers; ``biller_unavailable``
  when the biller's own system is down): retry later.
- ``ProviderOutcomeUnknown``: only from ``pay``: the request may have been carried out but the
  answer was lost (timeout, reset, 5xx, 408, an unreadable answer, or the same reference still
  being processed). Never a failure: resolve with ``payment_status(reference)`` or by sending
  ``pay`` again with the same quote and reference.

A payment that the provider accepted and recorded under the reference but that did not go
through (customer blocked, insufficient float) is not an exception: ``pay`` and
``payment_status`` return a ``PaymentResult`` with ``status=failed`` and a ``failure_code``
(``provider_rejected``, ``provider_insufficient_funds``).
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from core.errors import ErrorCode, ProviderRejected
from core.money import Money
from core.provider_records import DayRecord


class BillerKind(StrEnum):
    BILL = "bill"  # postpaid: the customer has open bills, each paid in full by its bill_id
    PREPAID = "prepaid"  # the customer chooses an amount (tokens, airtime, a subscription offer)


class BillerCategory(StrEnum):
    ELECTRICITY = "electricity"
    WATER = "water"
    TV = "tv"
    AIRTIME = "airtime"
    OTHER = "other"


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PROCESSING = "processing"  # accepted, final outcome later: ask payment_status


@dataclass(frozen=True)
class Offer:
    """A fixed-price product of a prepaid biller (a Canal+ bouquet): pay exactly its amount."""

    code: str
    name: str
    amount_minor: int


@dataclass(frozen=True)
class Biller:
    """One payable biller of the provider's catalogue."""

    code: str
    name: str
    category: BillerCategory
    kind: BillerKind
    reference_label: str
    reference_pattern: str  # a full-match regular expression, valid in Python and JavaScript
    reference_example: str
    min_amount_minor: int
    max_amount_minor: int
    currency: str
    is_available: bool = True
    offers: tuple[Offer, ...] = ()  # when not empty, a prepaid amount must equal one offer's amount

    def accepts_reference(self, customer_reference: str) -> bool:
        """True when the reference has this biller's format (checked before any provider call)."""
        return re.fullmatch(self.reference_pattern, customer_reference) is not None


@dataclass(frozen=True)
class OpenBill:
    """A bill the customer still owes; it is paid in full, by its ``bill_id``."""

    bill_id: str
    period: str  # the billing period as the biller prints it, e.g. "2026-08"
    amount_minor: int
    due_date: date


@dataclass(frozen=True)
class Lookup:
    """Who the customer is and what can be paid: open bills (kind=bill) or a range (prepaid)."""

    biller_code: str
    customer_reference: str
    customer_name: str
    currency: str
    bills: tuple[OpenBill, ...] = ()
    min_amount_minor: int | None = None  # prepaid only
    max_amount_minor: int | None = None  # prepaid only
    offers: tuple[Offer, ...] = ()


@dataclass(frozen=True)
class Quote:
    """The provider's binding price for one payment, valid until ``expires_at`` and usable once."""

    quote_id: str
    biller_code: str
    customer_reference: str
    bill_id: str | None
    amount_minor: int  # what the biller receives
    fee_minor: int  # the provider's fee, charged to us on top
    total_minor: int  # amount + fee: what leaves our float at the provider
    currency: str
    expires_at: datetime  # timezone-aware


@dataclass(frozen=True)
class Receipt:
    """Proof of payment to hand to the customer."""

    receipt_number: str
    # Woyofal prepaid electricity: three 20-digit tokens, to be keyed in this order
    # (docs/providers/niirpay.md §7).
    tokens: tuple[str, ...] = ()
    kwh: Decimal | None = None  # energy bought, prepaid electricity only


@dataclass(frozen=True)
class PaymentResult:
    """The provider's record of the payment made under our ``reference``."""

    reference: str
    provider_reference: str
    status: PaymentStatus
    amount_minor: int
    fee_minor: int
    total_minor: int
    currency: str
    receipt: Receipt | None = None  # set when status is succeeded
    failure_code: ErrorCode | None = None  # set when status is failed
    failure_message: str = ""
    provider_failure_code: str | None = None  # the provider's own code, for support

    @property
    def is_final(self) -> bool:
        return self.status is not PaymentStatus.PROCESSING


class PaymentNotFound(ProviderRejected):
    """The provider has no payment under this reference: it never carried one out.

    Safe to act on only when no ``pay`` call with that reference can still be in flight; the
    safe reaction is to send ``pay`` again with the same quote and reference.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", ErrorCode.NOT_FOUND)
        super().__init__(message, **kwargs)


class BillPaymentProvider(abc.ABC):
    """A bill-payment aggregator (Niirpay, …) as the payments services see it.

    Implementations are registered with ``partners.registry.register`` and built from a
    ``ConnectorSettings``; they hold no state between calls but an HTTP client.
    """

    rail: ClassVar[str] = "bills"  # provider call records (core.provider_calls)

    @abc.abstractmethod
    def list_billers(self) -> list[Biller]:
        """The provider's catalogue, including billers that are temporarily unavailable
        (``is_available=False``). Reads only; must never move money."""

    @abc.abstractmethod
    def lookup(self, *, biller_code: str, customer_reference: str) -> Lookup:
        """Identify the customer at the biller and list what can be paid.

        Raises ``ProviderRejected`` (``unknown_biller``, ``invalid_customer_reference``) or
        ``ProviderUnavailable`` (``biller_unavailable``). Must never move money.
        """

    @abc.abstractmethod
    def quote(
        self,
        *,
        biller_code: str,
        customer_reference: str,
        bill_id: str | None = None,
        amount: Money | None = None,
    ) -> Quote:
        """Price one payment: exactly one of ``bill_id`` (bill billers, paid in full) or
        ``amount`` (prepaid billers, within min/max and equal to an offer when there are offers).

        Raises ``ValueError`` when both or neither are given; ``ProviderRejected`` with
        ``bill_already_paid`` (the bill is no longer open), ``amount_out_of_range``,
        ``not_found`` (no such bill), ``unknown_biller``, ``invalid_customer_reference``;
        ``ProviderUnavailable`` (``biller_unavailable``). Must never move money.
        """

    @abc.abstractmethod
    def pay(self, *, quote_id: str, reference: str) -> PaymentResult:
        """Carry out the quoted payment under our stable ``reference`` (the idempotency key).

        Must NEVER pay twice for the same reference: sending the same quote and reference again
        (after a timeout, a 5xx, a crash) returns the first payment's result and moves no money.
        The same reference with another quote raises ``ProviderRejected(idempotency_key_reused)``.
        Returns ``succeeded`` (with a receipt), ``failed`` (with a failure code; nothing paid) or
        ``processing``. Raises ``ProviderRejected`` when the request was refused and no payment
        exists (``quote_expired``, ``quote_already_used``, ``bill_already_paid``, ``not_found``)
        and ``ProviderOutcomeUnknown`` when the answer was lost: never read that as a failure.
        """

    @abc.abstractmethod
    def payment_status(self, reference: str) -> PaymentResult:
        """The provider's current record of the payment made under our ``reference``.

        Raises ``PaymentNotFound`` when the provider never recorded one (nothing was paid) and
        ``ProviderUnavailable`` when no usable answer came (timeout, 5xx, unreadable): ask again
        later, never conclude anything from it. Must never move money.
        """

    @abc.abstractmethod
    def balance(self) -> Money:
        """Our prepaid float at the provider (payments draw their total from it)."""

    def day_record(self, business_date: date) -> DayRecord:
        """The payments the provider settled on ``business_date`` (its settlement file), whole.
        Read-only: must never move money. ``ProviderUnavailable`` or ``RecordUnreadable`` when
        it cannot be had whole."""
        raise ProviderRejected("a record of the day is not offered by this provider", code=ErrorCode.PROVIDER_REJECTED)
