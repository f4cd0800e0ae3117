"""firebase-admin exceptions as per-target results (docs/providers/fcm.md §2).

The SDK reads FCM's ``details[].errorCode`` first, then the HTTP status, and raises a typed
exception; we turn each into the FCM ``errorCode`` it stands for and say whether the token is
dead (delete it, never send to it again) and whether a retry can help.
"""

from __future__ import annotations

from firebase_admin import exceptions, messaging

from core.errors import ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from notifications.providers.base import PushErrorCode, TargetResult

# Most specific first: UnregisteredError is a NotFoundError, QuotaExceededError a ResourceExhaustedError.
_MAPPING: tuple[tuple[type[exceptions.FirebaseError], PushErrorCode, bool], ...] = (
    # (exception, code, retryable)
    (messaging.UnregisteredError, PushErrorCode.UNREGISTERED, False),
    (messaging.SenderIdMismatchError, PushErrorCode.SENDER_ID_MISMATCH, False),
    (messaging.QuotaExceededError, PushErrorCode.QUOTA_EXCEEDED, True),
    (exceptions.ResourceExhaustedError, PushErrorCode.QUOTA_EXCEEDED, True),
    (messaging.ThirdPartyAuthError, PushErrorCode.THIRD_PARTY_AUTH_ERROR, False),
    (exceptions.InvalidArgumentError, PushErrorCode.INVALID_ARGUMENT, False),
    (exceptions.UnavailableError, PushErrorCode.UNAVAILABLE, True),
    (exceptions.InternalError, PushErrorCode.INTERNAL, True),
    (exceptions.DeadlineExceededError, PushErrorCode.DEADLINE_EXCEEDED, True),
    (exceptions.UnauthenticatedError, PushErrorCode.UNAUTHENTICATED, False),
    (exceptions.PermissionDeniedError, PushErrorCode.PERMISSION_DENIED, False),
    (exceptions.NotFoundError, PushErrorCode.NOT_FOUND, False),
)
_DEAD_TOKEN_CODES = frozenset({PushErrorCode.UNREGISTERED, PushErrorCode.SENDER_ID_MISMATCH})
# FCM answers INVALID_ARGUMENT both for a bad payload and for a malformed token; only the
# message tells them apart ("The registration token is not a valid FCM registration token").
_INVALID_TOKEN_MARKER = "registration token"  # noqa: S105 - a phrase, not a secret
QUOTA_DEFAULT_BACKOFF_SECONDS = 60.0  # FCM asks for at least a minute when no Retry-After is given
# No answer, or one we cannot read: the push may have been delivered (a read timeout is DEADLINE_EXCEEDED).
_ANSWER_LOST_CODES = frozenset({PushErrorCode.DEADLINE_EXCEEDED, PushErrorCode.UNKNOWN})


def error_result(target: str, error: exceptions.FirebaseError, *, is_token: bool) -> TargetResult:
    """The ``TargetResult`` of one failed target."""
    code, retryable = _code_of(error)
    message = str(error) or code.value
    dead = is_token and (
        code in _DEAD_TOKEN_CODES
        or (code is PushErrorCode.INVALID_ARGUMENT and _INVALID_TOKEN_MARKER in message.lower())
    )
    retry_after = None
    if code is PushErrorCode.QUOTA_EXCEEDED:
        retry_after = _retry_after(error) or QUOTA_DEFAULT_BACKOFF_SECONDS
    elif retryable:
        retry_after = _retry_after(error)
    return TargetResult(
        target=target,
        message_id=None,
        error_code=code,
        retryable=retryable and not dead,
        dead_token=dead,
        error_message=message[:500],
        retry_after_seconds=retry_after,
    )


def _code_of(error: exceptions.FirebaseError) -> tuple[PushErrorCode, bool]:
    for error_type, code, retryable in _MAPPING:
        if isinstance(error, error_type):
            return code, retryable
    return PushErrorCode.UNKNOWN, False


def _retry_after(error: exceptions.FirebaseError) -> float | None:
    response = error.http_response
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for FCM; the caller's default backoff applies


def call_error(results: list[TargetResult], errors: list[exceptions.FirebaseError | None]) -> ProviderError | None:
    """What one SDK send call (one or many targets) amounts to, as a core provider error, for its
    provider-call record (``core.provider_calls``); None when every target was delivered.

    A call with several targets has one record, so it takes its most uncertain failure: a lost
    answer (unknown) over a retryable one (unavailable, nothing happened) over a refusal
    (rejected). The per-target results stay on the push's targets.
    """
    failed = [(result, error) for result, error in zip(results, errors, strict=True) if not result.is_delivered]
    if not failed:
        return None

    def rank(item: tuple[TargetResult, exceptions.FirebaseError | None]) -> int:
        result = item[0]
        return 2 if result.error_code in _ANSWER_LOST_CODES else (1 if result.retryable else 0)

    result, error = max(failed, key=rank)
    message = f"{len(failed)} of {len(results)} targets not delivered: {result.error_code}"
    response = error.http_response if error is not None else None
    http_status = response.status_code if response is not None else None
    code = str(result.error_code or PushErrorCode.UNKNOWN)
    if rank((result, error)) == 2:
        return ProviderOutcomeUnknown(message, provider_code=code, http_status=http_status)
    if result.retryable:
        retry_after = result.retry_after_seconds
        return ProviderUnavailable(message, retry_after=retry_after, provider_code=code, http_status=http_status)
    return ProviderRejected(message, provider_code=code, http_status=http_status)
