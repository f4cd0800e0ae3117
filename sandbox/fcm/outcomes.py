"""What the simulated FCM does with one message, chosen by markers in its target.

The target is the device token, the topic name or the condition string. Markers are matched
case-insensitively, first match wins (docs/sandbox.md, "Push (FCM)"):

| target contains   | answer                                                                  |
|-------------------|-------------------------------------------------------------------------|
| ``unregistered``  | 404 NOT_FOUND, errorCode UNREGISTERED                                   |
| ``mismatch``      | 403 PERMISSION_DENIED, errorCode SENDER_ID_MISMATCH                     |
| ``invalid``       | 400 INVALID_ARGUMENT, errorCode INVALID_ARGUMENT (not a valid token)    |
| ``quota``         | 429 RESOURCE_EXHAUSTED, errorCode QUOTA_EXCEEDED, ``Retry-After: 30``   |
| ``thirdpartyauth``| 401 UNAUTHENTICATED, errorCode THIRD_PARTY_AUTH_ERROR                   |
| ``unavailable``   | 503 UNAVAILABLE the first time for this target, then delivered          |
| ``internal``      | 500 INTERNAL the first time for this target, then delivered             |
| ``timeout``       | delivered, but the answer comes after SANDBOX_HANG_SECONDS (lost)       |
| anything else     | delivered: ``{"name": "projects/<p>/messages/<id>"}``                   |

Error bodies follow FCM v1 (docs/providers/fcm.md §2): ``{"error": {"code", "message", "status",
"details": [{"@type": "...FcmError", "errorCode"}]}}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class FcmOutcome(StrEnum):
    DELIVERED = "delivered"
    UNREGISTERED = "unregistered"
    SENDER_ID_MISMATCH = "mismatch"
    INVALID_ARGUMENT = "invalid"
    QUOTA_EXCEEDED = "quota"
    THIRD_PARTY_AUTH_ERROR = "thirdpartyauth"
    UNAVAILABLE_ONCE = "unavailable"
    INTERNAL_ONCE = "internal"
    ANSWER_LOST = "timeout"


MARKERS = [outcome for outcome in FcmOutcome if outcome is not FcmOutcome.DELIVERED]
FAIL_ONCE = frozenset({FcmOutcome.UNAVAILABLE_ONCE, FcmOutcome.INTERNAL_ONCE})
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


@dataclass(frozen=True)
class FcmErrorAnswer:
    http_status: int
    status: str
    message: str
    error_code: str | None
    retry_after: str | None = None

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.http_status, "message": self.message, "status": self.status}
        if self.error_code:
            error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": self.error_code}]
        return {"error": error}


ERRORS: dict[FcmOutcome, FcmErrorAnswer] = {
    FcmOutcome.UNREGISTERED: FcmErrorAnswer(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
    FcmOutcome.SENDER_ID_MISMATCH: FcmErrorAnswer(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"),
    FcmOutcome.INVALID_ARGUMENT: FcmErrorAnswer(
        400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT"
    ),
    FcmOutcome.QUOTA_EXCEEDED: FcmErrorAnswer(
        429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'", "QUOTA_EXCEEDED", "30"
    ),
    FcmOutcome.THIRD_PARTY_AUTH_ERROR: FcmErrorAnswer(
        401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"
    ),
    FcmOutcome.UNAVAILABLE_ONCE: FcmErrorAnswer(
        503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"
    ),
    FcmOutcome.INTERNAL_ONCE: FcmErrorAnswer(500, "INTERNAL", "Internal error encountered.", "INTERNAL"),
}
INVALID_TOPIC = FcmErrorAnswer(400, "INVALID_ARGUMENT", "Invalid value at 'message.topic'", "INVALID_ARGUMENT")


def outcome_for_target(target: str) -> FcmOutcome:
    lowered = target.lower()
    for outcome in MARKERS:
        if outcome.value in lowered:
            return outcome
    return FcmOutcome.DELIVERED


def target_key(target: str) -> str:
    """A short stable name for per-target counters (tokens can be 4 kB long)."""
    return hashlib.sha256(target.encode()).hexdigest()[:32]


def attempts_counter(target: str) -> str:
    """Name of the SimCounter of requests received for this target (tests read it back)."""
    return f"attempts:{target_key(target)}"


def failures_counter(target: str) -> str:
    return f"failures:{target_key(target)}"


REQUESTS_COUNTER = "requests"  # every request that reached the simulator, valid or not
