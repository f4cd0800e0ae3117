"""The mobile-money rail's provider interface (docs/architecture.md §6, docs/conventions.md §15).

Every connector (``wave``, ``orange_money``) implements ``MobileMoneyProvider``: frozen
dataclasses in and out, amounts as ``core.money.Money``, MSISDNs in E.164, statuses normalised
to the enums below. The service layer codes against this module only.

Error semantics, shared by every method that calls the provider:

- ``ProviderRejected``: the provider refused for good; nothing moved; do not retry.
  ``code`` is a stable ``core.errors.ErrorCode``: ``provider_insufficient_funds`` (our float is
  short), ``provider_rejected`` (blocked / invalid / unknown recipient, validation, mismatch,
  operation not supported by this provider), ``provider_not_configured`` (our credentials, key
  or PIN were refused: fix the connection), ``not_found`` (unknown session or batch id);
  ``provider_code`` keeps the provider's own code (``insufficient-funds``, ``2020``…).
- ``ProviderUnavailable``: nothing happened at the provider (refused connection, 429, 5xx on a
  call that moves no money): retry later, with the same reference.
- ``ProviderOutcomeUnknown``: a money-moving request may have been acted on (timeout, connection
  lost, 408/5xx): never a failure; resolve with ``cash_in_status`` or by retrying with the same
  reference, which the provider guarantees cannot pay twice.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from core.errors import ErrorCode, ProviderRejected
from core.money import Money
from core.provider_records import DayRecord
from mobilemoney.providers.msisdn import is_e164

MAX_REFERENCE_LENGTH = 255  # Wave's Idempotency-Key and client_reference limit (docs/providers/wave.md §2)
_REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:\-]+$")


class OperationStatus(StrEnum):
    """Where a money movement stands at the provider."""

    PROCESSING = "processing"  # accepted, not final yet: ask again later
    SUCCEEDED = "succeeded"  # money moved
    FAILED = "failed"  # final, nothing moved
    REVERSED = "reversed"  # moved, then reversed by the provider (Wave payouts only)


class CheckoutStatus(StrEnum):
    """The life of a checkout session (payment link / QR code)."""

    OPEN = "open"  # can still be paid
    COMPLETE = "complete"  # paid
    EXPIRED = "expired"  # can no longer be paid, was not paid
    FAILED = "failed"  # the provider closed it after a failed payment (Orange Money QR)


class PaymentStatus(StrEnum):
    """The payment made (or not) against a checkout session."""

    PROCESSING = "processing"  # no successful payment yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the last payment attempt failed (see failure_code)
    CANCELLED = "cancelled"  # the session ended without payment
    REFUNDED = "refunded"  # paid, then refunded in full


class EventKind(StrEnum):
    CASH_IN = "cash_in"  # a cash-in (payout) reached a final status
    CHECKOUT = "checkout"  # a checkout session was paid or a payment failed
    OTHER = "other"  # an event this rail does not act on (stored, acknowledged, ignored)


def _check_reference(reference: str) -> None:
    if not (0 < len(reference) <= MAX_REFERENCE_LENGTH) or not _REFERENCE_RE.match(reference):
        raise ValueError(f"reference must be 1-{MAX_REFERENCE_LENGTH} characters of [A-Za-z0-9_.:-]")


def _check_positive(money: Money) -> None:
    if money.minor <= 0:
        raise ValueError("the amount must be positive")


@dataclass(frozen=True)
class CashInRequest:
    """Send ``money`` from our float to the wallet ``msisdn``.

    ``reference`` is OUR stable reference for this movement: the same value on every retry
    (it becomes Wave's ``Idempotency-Key`` and ``client_reference``, Orange Money's
    ``reference``), so that a retry can never pay twice.
    """

    reference: str
    msisdn: str
    money: Money
    recipient_name: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        _check_reference(self.reference)
        if not is_e164(self.msisdn):
            raise ValueError("msisdn must be in E.164 form (+221…)")
        _check_positive(self.money)


@dataclass(frozen=True)
class CashInResult:
    """What the provider says about one cash-in.

    ``failure_code`` is a ``core.errors.ErrorCode`` value (``provider_insufficient_funds``,
    ``provider_rejected``…), ``provider_failure_code`` the provider's own code.
    ``fee_minor`` is the fee the provider charged on top (Wave), in minor units of ``money``.
    """

    reference: str
    provider_reference: str | None
    status: OperationStatus
    money: Money | None = None
    msisdn: str | None = None
    fee_minor: int | None = None
    failure_code: str | None = None
    provider_failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class CashInBatchRequest:
    """Many cash-ins submitted at once; ``reference`` identifies the batch (its idempotency key)."""

    reference: str
    items: tuple[CashInRequest, ...]

    def __post_init__(self) -> None:
        _check_reference(self.reference)
        if not self.items:
            raise ValueError("a batch needs at least one item")
        references = [item.reference for item in self.items]
        if len(set(references)) != len(references):
            raise ValueError("item references must be unique within a batch")


@dataclass(frozen=True)
class BatchSubmission:
    batch_id: str
    reference: str


@dataclass(frozen=True)
class BatchStatus:
    """Progress of a batch: one result per item (matched by ``CashInResult.reference``)."""

    batch_id: str
    is_complete: bool
    items: tuple[CashInResult, ...]


@dataclass(frozen=True)
class CheckoutRequest:
    """Ask the provider for a payment link / QR code that pays ``money`` into our wallet."""

    reference: str
    money: Money
    success_url: str
    error_url: str
    restrict_payer_msisdn: str | None = None
    validity_seconds: int | None = None

    def __post_init__(self) -> None:
        _check_reference(self.reference)
        _check_positive(self.money)
        if self.restrict_payer_msisdn is not None and not is_e164(self.restrict_payer_msisdn):
            raise ValueError("restrict_payer_msisdn must be in E.164 form")
        if self.validity_seconds is not None and self.validity_seconds <= 0:
            raise ValueError("validity_seconds must be positive")


@dataclass(frozen=True)
class CheckoutSession:
    """A checkout session as the provider reports it.

    ``qr_png_base64`` is the provider's QR image when it gives one (Orange Money), else
    ``None`` (Wave): the API layer then renders ``qr_payload`` itself. ``app_links`` holds
    per-app deep links (Orange Money ``OM`` / ``MAXIT``).
    """

    provider_session_id: str
    reference: str | None
    money: Money
    status: CheckoutStatus
    payment_status: PaymentStatus
    payment_url: str | None
    qr_payload: str | None
    qr_png_base64: str | None
    expires_at: datetime | None
    provider_transaction_id: str | None = None
    payer_msisdn: str | None = None
    completed_at: datetime | None = None
    refunded_at: datetime | None = None
    failure_code: str | None = None
    provider_failure_code: str | None = None
    failure_message: str | None = None
    app_links: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class CallbackEvent:
    """One event of a provider callback, normalised.

    ``event_id`` is the provider's de-duplication key (Wave ``EV_…``, Orange Money
    ``X-Sonatel-Idempotency-Key``): the same event delivered twice has the same id.
    ``provider_reference`` is the provider's id of the object concerned (Wave ``cos-…``,
    Orange Money ``transactionId``); ``reference`` is ours. ``raw`` is the event as received.
    """

    event_id: str
    kind: EventKind
    event_type: str
    reference: str | None
    provider_reference: str | None
    status: OperationStatus | None
    money: Money | None
    raw: Mapping[str, Any] = field(hash=False, repr=False)
    msisdn: str | None = None
    provider_transaction_id: str | None = None
    failure_code: str | None = None
    provider_failure_code: str | None = None
    failure_message: str | None = None


def best_result(results: list[CashInResult]) -> CashInResult | None:
    """The one result that speaks for a reference: a success wins, then anything not failed."""
    for wanted in (OperationStatus.SUCCEEDED, OperationStatus.REVERSED, OperationStatus.PROCESSING):
        for result in results:
            if result.status is wanted:
                return result
    return results[0] if results else None


TEST_MODE = "test"


def require_test_mode(mode: str, operation: str) -> None:
    if mode != TEST_MODE:
        raise ProviderRejected(f"{operation} exists in test mode only", code=ErrorCode.PERMISSION_DENIED)


def not_supported(provider: str, operation: str) -> ProviderRejected:
    """The error for an operation the provider does not offer (checked before any HTTP call)."""
    return ProviderRejected(f"{operation} is not supported by {provider}", code=ErrorCode.PROVIDER_REJECTED)


class MobileMoneyProvider(ABC):
    """One mobile-money provider, spoken to over its own API (see the module docstring for errors).

    Capabilities are class attributes so that callers can choose a path before calling:
    an operation a provider lacks raises ``ProviderRejected`` ("… is not supported by …").
    Instances are cheap and hold one pooled HTTP client: build one per thread or process (what
    they share, such as Orange Money's token, goes through Django's cache).
    """

    rail: ClassVar[str] = "mobile_money"  # provider call records (core.provider_calls)
    provider_name: ClassVar[str] = "provider"
    supports_batch: ClassVar[bool] = False
    supports_checkout_expire: ClassVar[bool] = False
    supports_checkout_refund: ClassVar[bool] = False
    supports_payer_restriction: ClassVar[bool] = False
    sends_cash_in_callbacks: ClassVar[bool] = False

    # --- cash-in ---------------------------------------------------------------------------

    @abstractmethod
    def cash_in(self, request: CashInRequest) -> CashInResult:
        """Pay ``request.money`` to ``request.msisdn``.

        Returns a result whose status is ``succeeded`` or ``processing`` (then resolve with
        ``cash_in_status``). Every final refusal raises ``ProviderRejected`` with a normalised
        code; a lost answer raises ``ProviderOutcomeUnknown``, never a failure.
        Must never move money twice for the same ``reference``: a call repeated with the same
        request returns the first outcome; the same reference with a different request is
        refused (``provider_code`` ``idempotency-mismatch``) and pays nothing.
        """

    @abstractmethod
    def cash_in_status(self, reference: str, provider_reference: str | None = None) -> CashInResult | None:
        """The provider's current view of the cash-in ``reference`` (by id when known).

        Read-only: must never move money. ``None`` means the provider has no cash-in under that
        reference; it does not prove a failure while a create call may still be in flight.
        When several are listed (never for our unique references) a succeeded one wins.
        """

    def cash_in_batch(self, batch: CashInBatchRequest) -> BatchSubmission:
        """Submit many cash-ins at once (only when ``supports_batch``); results come from
        ``cash_in_batch_status``. Must never pay an item twice: resubmitting the same batch
        reference returns the same batch id."""
        raise not_supported(self.provider_name, "batch cash-in")

    def cash_in_batch_status(self, batch_id: str) -> BatchStatus:
        """Per-item results of a submitted batch; ``is_complete`` once every item is final.
        Read-only: must never move money."""
        raise not_supported(self.provider_name, "batch cash-in")

    # --- checkout sessions ---------------------------------------------------------------

    @abstractmethod
    def checkout_create(self, request: CheckoutRequest) -> CheckoutSession:
        """Create a payment link / QR code for ``request.money``. Moves no money. Refuses
        (``ProviderRejected``) a payer restriction the provider cannot enforce rather than
        silently ignoring it."""

    @abstractmethod
    def checkout_get(self, provider_session_id: str) -> CheckoutSession:
        """The session by the provider's id. Read-only; ``not_found`` when unknown."""

    @abstractmethod
    def checkout_search(self, reference: str) -> list[CheckoutSession]:
        """Sessions (or, for Orange Money, the payments) the provider lists under our
        ``reference``. Read-only. May be empty for a session never paid (Orange Money lists
        only transactions)."""

    def checkout_expire(self, provider_session_id: str) -> CheckoutSession:
        """Close an open session so it can no longer be paid. Must never expire a paid
        session (the provider refuses: ``ProviderRejected``)."""
        raise not_supported(self.provider_name, "expiring a checkout session")

    def checkout_refund(self, provider_session_id: str) -> CheckoutSession:
        """Refund a paid session in full. Must never refund twice: the provider's refund is
        idempotent, a repeat returns the refunded session."""
        raise not_supported(self.provider_name, "refunding a checkout session")

    def sandbox_pay_checkout(self, provider_session_id: str, payer_msisdn: str) -> CheckoutSession:
        """OUR SANDBOX EXTENSION, not a provider API; test mode only. Act as the customer: the
        simulator pays the session from ``payer_msisdn`` (outcome by its last digits, docs/architecture.md
        §6) and sends the provider's signed callback. Returns the session afterwards. Outside
        test mode it is refused (``ProviderRejected``) before any call: it must never reach a
        live provider."""
        raise not_supported(self.provider_name, "paying as a sandbox customer")

    # --- float -----------------------------------------------------------------------------

    @abstractmethod
    def balance(self) -> Money:
        """Our float at the provider (the wallet cash-ins are paid from). Read-only."""

    # --- reconciliation --------------------------------------------------------------------

    def day_record(self, business_date: date) -> DayRecord:
        """Every movement of our wallet on ``business_date`` as the provider records it, read in
        full (every page). Read-only: must never move money. ``ProviderUnavailable`` (or
        ``RecordUnreadable``) when the record cannot be had whole: never a partial record
        passed off as complete."""
        raise not_supported(self.provider_name, "a record of the day")

    # --- callbacks -------------------------------------------------------------------------

    @abstractmethod
    def verify_callback(self, headers: Mapping[str, str], raw_body: bytes, now: float) -> bool:
        """True only when the callback provably comes from the provider (signature over the
        exact ``raw_body`` with one of our secrets, timestamp within 300 s of ``now``).
        Never raises: anything malformed is ``False``. Must never accept an unsigned or
        tampered body."""

    @abstractmethod
    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> list[CallbackEvent]:
        """The events of a (verified) callback; a bulk payload gives several. Raises
        ``ValueError`` for a body that is not a callback of this provider. Pure: no I/O."""

    def close(self) -> None:  # noqa: B027 - an optional hook, a no-op unless overridden
        """Release pooled connections (optional)."""
