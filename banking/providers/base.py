"""The two provider interfaces of the bank-transfer rail (docs/architecture.md §6, docs/conventions.md §15).

- ``CoreBankingConnector``: our own core banking system, which credits our customers' accounts
  (the incoming side: a partner bank's batch pays beneficiaries who bank with us);
- ``InterbankConnector``: a partner bank that carries our transfers to other banks' customers
  through the WAEMU systems (docs/providers/banking.md §5): STAR-UEMOA (RTGS) or SICA-UEMOA (clearing).

Money-moving calls take our stable ``reference``, so a retry after a lost answer is recognised
by the other side instead of paying twice. Errors follow core.errors: ``ProviderRejected`` (do not
retry), ``ProviderUnavailable`` (nothing happened, retry later), ``ProviderOutcomeUnknown`` (the
call may have been acted on: resolve with the status method, never guess). A business refusal
(closed account, insufficient funds…) is not an error: it is a result with an ISO reason code.
A connector instance holds a pooled HTTP session: use one instance per thread, built and closed
by ``partners.registry.connector_session`` (which also records every call it makes).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar

from banking.iban import parse_account
from banking.iso20022.pain001_checks import BIC_RE
from banking.iso20022.reasons import ReasonCode
from core.errors import AuthenticationFailed, ErrorCode, ProviderRejected
from core.money import Money
from core.provider_records import DayRecord

# Our references travel in URLs and in ISO Max35Text fields.
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,34}$")
MAX35 = 35

# SICA-UEMOA clears transfers up to 50 million XOF; above, STAR-UEMOA (docs/providers/banking.md §5).
RTGS_THRESHOLD = Money(50_000_000, "XOF")


class Settlement(StrEnum):
    RTGS = "RTGS"  # STAR-UEMOA, real-time gross settlement
    CLEARING = "CLEARING"  # SICA-UEMOA, automated clearing


CLEARING_SYSTEMS = {Settlement.RTGS: "STAR-UEMOA", Settlement.CLEARING: "SICA-UEMOA"}


def settlement_for(amount: Money) -> Settlement:
    """The settlement system of an XOF transfer: strictly above 50,000,000 XOF → RTGS
    (STAR-UEMOA); at or below — exactly 50,000,000 XOF included — → CLEARING (SICA-UEMOA)."""
    if amount.currency != RTGS_THRESHOLD.currency:
        raise ValueError(f"WAEMU transfers are in XOF, not {amount.currency}")
    if amount.minor <= 0:
        raise ValueError("a transfer amount is positive")
    return Settlement.RTGS if amount.minor > RTGS_THRESHOLD.minor else Settlement.CLEARING


def _require_reference(reference: str) -> None:
    if not REFERENCE_RE.match(reference):
        raise ValueError(f"a reference has 1 to 35 letters, digits, '_' or '-': {reference!r}")


def _require_text(value: str, name: str, limit: int) -> None:
    if not value.strip() or len(value) > limit:
        raise ValueError(f"{name} must have 1 to {limit} characters")


def _require_xof(amount: Money) -> None:
    if amount.currency != "XOF" or amount.minor <= 0:
        raise ValueError(f"the amount must be a positive XOF amount, got {amount}")


# --- interbank: transfers out ------------------------------------------------------------------


class TransferState(StrEnum):
    ACCEPTED = "accepted"  # the bank took it; settlement in process
    SETTLED = "settled"  # final: the beneficiary's bank was paid
    REJECTED = "rejected"  # final: refused, with a reason code; no money moved
    PENDING = "pending"  # not decided yet (or a status code we do not know: never guessed)
    NOT_FOUND = "not_found"  # the bank has no transfer under this reference: it never arrived

    @property
    def is_final(self) -> bool:
        return self in (TransferState.SETTLED, TransferState.REJECTED)


@dataclass(frozen=True)
class TransferOrder:
    """A transfer to a customer of another bank. ``reference`` is ours (the transaction's public
    id: pacs.008 MsgId, InstrId and TxId); ``end_to_end_id`` is the partner's and reaches the
    beneficiary unchanged. Invalid values raise at construction (``AccountNumberError`` for
    accounts, ``ValueError`` otherwise), so a connector never sends a malformed order."""

    reference: str
    end_to_end_id: str
    amount: Money
    debtor_name: str
    debtor_account: str
    debtor_agent_bic: str
    beneficiary_name: str
    iban: str
    bic: str
    settlement: Settlement
    remittance_information: str = ""

    def __post_init__(self) -> None:
        _require_reference(self.reference)
        _require_text(self.end_to_end_id, "end_to_end_id", MAX35)
        _require_xof(self.amount)
        _require_text(self.debtor_name, "debtor_name", 140)
        _require_text(self.beneficiary_name, "beneficiary_name", 140)
        parse_account(self.debtor_account)
        parse_account(self.iban)
        for name in ("debtor_agent_bic", "bic"):
            if not BIC_RE.match(getattr(self, name)):
                raise ValueError(f"{name} is not a BIC: {getattr(self, name)!r}")
        if self.settlement is Settlement.CLEARING and settlement_for(self.amount) is Settlement.RTGS:
            raise ValueError("SICA-UEMOA clears at most 50,000,000 XOF: use RTGS")
        if len(self.remittance_information) > 140:
            raise ValueError("remittance_information has at most 140 characters")


@dataclass(frozen=True)
class SubmissionResult:
    """The bank's immediate answer to a transfer. ``is_duplicate``: the bank already held this
    reference (an earlier attempt arrived) and answered with that transfer's status."""

    reference: str
    status: TransferState
    reason_code: str | None = None
    provider_reference: str | None = None
    is_duplicate: bool = False


@dataclass(frozen=True)
class TransferStatus:
    """A transfer's status, from a status query or a status message (callback).
    ``status_message_id`` identifies the message (de-duplicate callbacks on it)."""

    reference: str
    status: TransferState
    reason_code: str | None = None
    reason_text: str | None = None
    provider_reference: str | None = None
    status_message_id: str | None = None


class StatusMessageRejected(AuthenticationFailed):
    """A status message whose signature is missing, wrong or too old: ignore its content."""

    code = ErrorCode.INVALID_SIGNATURE
    title = "Invalid status message signature"


class InterbankConnector(ABC):
    """Sends our transfers to another bank and reads what it says about them."""

    rail: ClassVar[str] = "banking"  # provider call records (core.provider_calls)

    @abstractmethod
    def send_transfer(self, order: TransferOrder) -> SubmissionResult:
        """Submit one transfer under ``order.reference``.

        Must never send the same transfer twice for one reference: every attempt carries the
        same reference as message, instruction and transaction id, so the bank answers a repeat
        with the existing transfer's status (``is_duplicate``) instead of paying again. After
        ``ProviderOutcomeUnknown`` call ``transfer_status`` first; re-submitting is only for
        ``NOT_FOUND``. Must never report ``SETTLED`` or ``REJECTED`` without the bank saying so.
        """

    @abstractmethod
    def transfer_status(self, reference: str) -> TransferStatus:
        """The bank's current status of the transfer sent under ``reference`` (``NOT_FOUND``
        when it has none). Moves no money; must never turn an unknown status code into a
        final state (it is reported ``PENDING``)."""

    @abstractmethod
    def parse_status_message(self, raw: bytes) -> list[TransferStatus]:
        """The statuses in a status message the bank sent us (callback body, byte for byte).
        Raises ``banking.iso20022.Iso20022Error`` for an unreadable or unsafe message; must
        never resolve entities or fetch anything while reading it. Does not check the
        signature: call ``verify_status_message`` first and drop the message if it fails."""

    @abstractmethod
    def verify_status_message(self, raw: bytes, headers: Mapping[str, str]) -> None:
        """Check the bank's signature over ``raw``; ``StatusMessageRejected`` if it is missing,
        wrong or outside the tolerance window. Must never accept an unsigned message."""

    def day_record(self, business_date: date) -> DayRecord:
        """The bank's statement of ``business_date`` (camt.053), whole; moves no money.
        ``ProviderUnavailable`` or ``RecordUnreadable`` when it cannot be had whole."""
        raise ProviderRejected("this bank offers no statement", code=ErrorCode.PROVIDER_REJECTED)


# --- core banking: credits to our customers ----------------------------------------------------


class CreditState(StrEnum):
    POSTED = "posted"  # final: the account was credited
    REJECTED = "rejected"  # final: refused (AC01 unknown, AC04 closed, AC06 blocked, AM04…)
    PENDING = "pending"  # accepted, not posted yet
    NOT_FOUND = "not_found"  # the core has no credit under this reference: it never arrived

    @property
    def is_final(self) -> bool:
        return self in (CreditState.POSTED, CreditState.REJECTED)


@dataclass(frozen=True)
class CreditOrder:
    """A credit to one of our customers' accounts (IBAN or RIB), under our stable reference."""

    reference: str
    account: str
    amount: Money
    beneficiary_name: str
    remittance_information: str = ""

    def __post_init__(self) -> None:
        _require_reference(self.reference)
        _require_xof(self.amount)
        _require_text(self.beneficiary_name, "beneficiary_name", 140)
        parse_account(self.account)
        if len(self.remittance_information) > 140:
            raise ValueError("remittance_information has at most 140 characters")


@dataclass(frozen=True)
class CreditResult:
    """The core's answer. ``reason_code`` is an ISO status reason when ``REJECTED``;
    ``posting_reference`` the core's booking id when ``POSTED``; ``is_replay`` when the core
    already held this reference and answered with the stored result."""

    reference: str
    status: CreditState
    reason_code: str | None = None
    posting_reference: str | None = None
    is_replay: bool = False


class CoreBankingConnector(ABC):
    """Credits our customers' accounts in the core banking system."""

    rail: ClassVar[str] = "banking"  # provider call records (core.provider_calls)

    @abstractmethod
    def credit_account(self, order: CreditOrder) -> CreditResult:
        """Credit ``order.account`` once for ``order.reference``.

        Must never credit twice for one reference: the reference is the core's idempotency
        key, so a repeat returns the first result (``is_replay``). A lost answer raises
        ``ProviderOutcomeUnknown``: resolve it with ``credit_status``, never by assuming
        failure. A refused credit is ``REJECTED`` with its reason code, not an exception.
        """

    @abstractmethod
    def credit_status(self, reference: str) -> CreditResult:
        """The core's record of the credit under ``reference`` (``NOT_FOUND`` when none).
        Moves no money."""

    def day_record(self, business_date: date) -> DayRecord:
        """The bank's statement of ``business_date`` (camt.053), whole; moves no money.
        ``ProviderUnavailable`` or ``RecordUnreadable`` when it cannot be had whole."""
        raise ProviderRejected("this bank offers no statement", code=ErrorCode.PROVIDER_REJECTED)


def error_code_for_reason(reason_code: str | None) -> ErrorCode:
    """The gateway error code of a refusal: AM04 → ``provider_insufficient_funds`` (docs/architecture.md
    §6, 9904); any other reason → ``provider_rejected``."""
    if reason_code == ReasonCode.INSUFFICIENT_FUNDS:
        return ErrorCode.PROVIDER_INSUFFICIENT_FUNDS
    return ErrorCode.PROVIDER_REJECTED
