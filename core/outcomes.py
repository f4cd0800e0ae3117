"""What a provider said about one money movement, in one type for every rail.

Connectors speak their provider's dialect; the rails translate each answer (or each typed
provider error) into an ``Outcome`` and hand it to ``ledger.services.outcome_apply``, the one
place where an outcome moves a transaction (its status, its hold, its event and outbox row).

- ``succeeded``: the provider did it (its reference kept) → succeeded, hold captured;
- ``rejected``: refused for good (our code, the provider's message) → failed, hold released;
- ``unknown``: the request may have been acted on, the answer was lost → unknown, asked later,
  never guessed;
- ``unavailable``: nothing happened at the provider (refused connection, a 503 on a read) →
  unchanged, tried again later under the same reference;
- ``pending``: accepted, the final answer comes later (callback, status query) → unchanged;
- ``reversed``: the provider undid a movement it had made → reversed (failed if never settled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from core.errors import ErrorCode, ProviderError, ProviderOutcomeUnknown, ProviderRejected


class OutcomeKind(StrEnum):
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"
    PENDING = "pending"
    REVERSED = "reversed"


# Kinds after which the provider will not be asked again: the movement is settled one way or the other.
FINAL_KINDS = frozenset({OutcomeKind.SUCCEEDED, OutcomeKind.REJECTED, OutcomeKind.REVERSED})


@dataclass(frozen=True)
class Outcome:
    """One provider answer about one of our references."""

    kind: OutcomeKind
    provider_reference: str | None = None
    code: str | None = None  # our stable error code (``ErrorCode``) for a rejection
    message: str = ""
    provider_code: str | None = None  # the provider's own code, kept for staff
    detail: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_final(self) -> bool:
        return self.kind in FINAL_KINDS

    @property
    def retryable(self) -> bool:
        """Whether asking or sending again (with the same reference) can change anything."""
        return not self.is_final

    @classmethod
    def succeeded(cls, provider_reference: str | None = None, **detail: Any) -> Outcome:
        return cls(OutcomeKind.SUCCEEDED, provider_reference=provider_reference or None, detail=_frozen(detail))

    @classmethod
    def rejected(
        cls,
        code: str | None,
        message: str = "",
        *,
        provider_code: str | None = None,
        provider_reference: str | None = None,
        **detail: Any,
    ) -> Outcome:
        return cls(
            OutcomeKind.REJECTED,
            provider_reference=provider_reference or None,
            code=str(code or ErrorCode.PROVIDER_REJECTED),
            message=message,
            provider_code=provider_code,
            detail=_frozen(detail),
        )

    @classmethod
    def unknown(cls, message: str = "", **detail: Any) -> Outcome:
        return cls(OutcomeKind.UNKNOWN, message=message, detail=_frozen(detail))

    @classmethod
    def unavailable(cls, message: str = "", **detail: Any) -> Outcome:
        return cls(OutcomeKind.UNAVAILABLE, message=message, detail=_frozen(detail))

    @classmethod
    def pending(cls, provider_reference: str | None = None, **detail: Any) -> Outcome:
        return cls(OutcomeKind.PENDING, provider_reference=provider_reference or None, detail=_frozen(detail))

    @classmethod
    def reversed(cls, provider_reference: str | None = None, message: str = "", **detail: Any) -> Outcome:
        return cls(
            OutcomeKind.REVERSED, provider_reference=provider_reference or None, message=message, detail=_frozen(detail)
        )

    @classmethod
    def from_error(cls, error: ProviderError) -> Outcome:
        """The outcome a typed provider error stands for (``core.http`` raises them)."""
        if isinstance(error, ProviderRejected):
            return cls.rejected(error.code, error.message, provider_code=error.provider_code)
        if isinstance(error, ProviderOutcomeUnknown):
            return cls.unknown(error.message)
        return cls.unavailable(error.message)


def _frozen(detail: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: v for k, v in detail.items() if v is not None})
