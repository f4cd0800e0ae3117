"""One exception hierarchy with stable machine codes (docs/architecture.md §5, docs/conventions.md §19).

Partners program against ``code``: a value of ``ErrorCode`` never changes once released.
Anticipated failures raise a ``GatewayError`` subclass whose message is safe to show a partner;
anything else is a bug and is answered with a generic 500 by the API error handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # generic HTTP-level problems
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    # authentication and authorisation
    AUTHENTICATION_REQUIRED = "authentication_required"
    INVALID_API_KEY = "invalid_api_key"
    INVALID_SIGNATURE = "invalid_signature"
    SIGNATURE_EXPIRED = "signature_expired"
    SIGNATURE_REPLAYED = "signature_replayed"
    PERMISSION_DENIED = "permission_denied"
    SCOPE_MISSING = "scope_missing"
    IP_NOT_ALLOWED = "ip_not_allowed"
    PARTNER_SUSPENDED = "partner_suspended"
    # idempotency
    IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    # money and ledger
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVALID_AMOUNT = "invalid_amount"
    UNSUPPORTED_CURRENCY = "unsupported_currency"
    ILLEGAL_TRANSITION = "illegal_transition"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    DUPLICATE_CLIENT_REFERENCE = "duplicate_client_reference"
    LIMIT_EXCEEDED = "limit_exceeded"
    # providers
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PROVIDER_REJECTED = "provider_rejected"
    PROVIDER_INSUFFICIENT_FUNDS = "provider_insufficient_funds"
    PROVIDER_OUTCOME_UNKNOWN = "provider_outcome_unknown"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    PROVIDER_DISABLED = "provider_disabled"  # a provider disabled or removed takes no new work
    # rails
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_ALREADY_USED = "quote_already_used"
    BILL_ALREADY_PAID = "bill_already_paid"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    BILLER_UNAVAILABLE = "biller_unavailable"
    KAFKA_DISABLED = "kafka_disabled"
    UNKNOWN_BILLER = "unknown_biller"
    INVALID_CUSTOMER_REFERENCE = "invalid_customer_reference"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class GatewayError(Exception):
    """An anticipated failure with a partner-safe message and a stable code."""

    status: int = 400
    code: ErrorCode = ErrorCode.VALIDATION_ERROR
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: ErrorCode | None = None,
        status: int | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.detail)


class ValidationFailed(GatewayError):
    status = 400
    code = ErrorCode.VALIDATION_ERROR
    title = "Invalid request"


class BusinessRuleViolation(GatewayError):
    """The request is well formed but cannot be carried out (422)."""

    status = 422
    code = ErrorCode.VALIDATION_ERROR
    title = "Request cannot be processed"


class InsufficientFunds(BusinessRuleViolation):
    code = ErrorCode.INSUFFICIENT_FUNDS
    title = "Insufficient funds"


class AuthenticationFailed(GatewayError):
    status = 401
    code = ErrorCode.AUTHENTICATION_REQUIRED
    title = "Authentication failed"


class PermissionDenied(GatewayError):
    status = 403
    code = ErrorCode.PERMISSION_DENIED
    title = "Permission denied"


class NotFound(GatewayError):
    status = 404
    code = ErrorCode.NOT_FOUND
    title = "Not found"


class Conflict(GatewayError):
    status = 409
    code = ErrorCode.CONFLICT
    title = "Conflict"


class RateLimited(GatewayError):
    status = 429
    code = ErrorCode.RATE_LIMITED
    title = "Too many requests"


class ServiceUnavailable(GatewayError):
    status = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
    title = "Service unavailable"


class IllegalTransition(GatewayError):
    """A state change the state machine does not allow; nothing was written."""

    status = 409
    code = ErrorCode.ILLEGAL_TRANSITION
    title = "Illegal state transition"


# --- provider errors (docs/conventions.md §17) --------------------------------------------------------


class ProviderError(Exception):
    """A provider call failed. ``retryable`` says whether trying again can help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: ErrorCode = ErrorCode.PROVIDER_REJECTED,
        provider_code: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        self.provider_code = provider_code
        self.http_status = http_status


class ProviderRejected(ProviderError):
    """The provider refused the request for good: do not retry."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", ErrorCode.PROVIDER_REJECTED)
        super().__init__(message, retryable=False, **kwargs)


class ProviderUnavailable(ProviderError):
    """The provider could not take the request (nothing happened there): retry later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("code", ErrorCode.PROVIDER_UNAVAILABLE)
        super().__init__(message, retryable=True, **kwargs)
        self.retry_after = retry_after


class ProviderOutcomeUnknown(ProviderError):
    """The request may have reached the provider but the answer was lost (timeout, reset).

    Never to be read as a failure: the outcome is resolved by asking the provider.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", ErrorCode.PROVIDER_OUTCOME_UNKNOWN)
        super().__init__(message, retryable=True, **kwargs)
