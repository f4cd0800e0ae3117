"""firebase-admin exceptions as per-target results (providers.md §5.2).

The SDK reads FCM's ``details[].errorCode`` first, then the HTTP status, and raises a typed
exception; we turn each into the FCM ``errorCode`` it stands for and say whether the token is
dead (delete it, never send to it again) and whether a retry can help.
"""

from __future__ import annotations

from firebase_admin import exceptions, messaging

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
