"""The push rail's interface: what a push provider takes, what it answers, what it must never do.

Every push connector (``notifications/providers/fcm.py`` today) implements ``PushProvider``.
Inputs and outputs are frozen dataclasses; the service layer stores the per-target results and
decides about retries. The error codes are FCM's own ``errorCode`` values
(firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode, docs/providers/fcm.md §2) plus a few
transport-level codes for failures that never produced an FCM answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, Literal

MAX_TOKENS_PER_SEND = 500  # FCM multicast limit (docs/providers/fcm.md §3)


class PushErrorCode(StrEnum):
    """Why one target was not delivered. Values never change (they are stored and shown)."""

    # FCM v1 errorCode values (docs/providers/fcm.md §2)
    UNREGISTERED = "UNREGISTERED"  # the token is gone for good: delete it
    INVALID_ARGUMENT = "INVALID_ARGUMENT"  # bad token or bad payload: never retry as is
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"  # the token belongs to another project: delete it
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"  # back off (>= 60 s, honour Retry-After)
    UNAVAILABLE = "UNAVAILABLE"  # FCM overloaded: retry with backoff
    INTERNAL = "INTERNAL"  # FCM failed: retry with backoff
    THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"  # APNs / web-push credentials to fix
    # HTTP-level answers without an FCM errorCode
    UNAUTHENTICATED = "UNAUTHENTICATED"  # our own credential was refused
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"  # e.g. an unknown project
    # no answer at all
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"  # timed out: the push may or may not have been delivered
    UNKNOWN = "UNKNOWN"  # an answer we cannot interpret (redirect, garbage)


TargetKind = Literal["tokens", "topic", "condition"]


@dataclass(frozen=True)
class AndroidOptions:
    """Android delivery options (FCM ``AndroidConfig`` / ``AndroidNotification``)."""

    priority: Literal["normal", "high"] | None = None
    ttl_seconds: int | None = None  # 0..2,419,200 (28 days)
    collapse_key: str | None = None
    channel_id: str | None = None
    sound: str | None = None
    tag: str | None = None
    click_action: str | None = None
    color: str | None = None  # "#rrggbb"
    icon: str | None = None


@dataclass(frozen=True)
class ApnsOptions:
    """iOS delivery options (FCM ``APNSConfig``: ``aps`` payload and ``apns-*`` headers)."""

    badge: int | None = None
    sound: str | None = None
    category: str | None = None
    thread_id: str | None = None
    content_available: bool = False
    mutable_content: bool = False
    priority: Literal[5, 10] | None = None  # header apns-priority
    collapse_id: str | None = None  # header apns-collapse-id


@dataclass(frozen=True)
class PushMessage:
    """What to show: an optional notification (title, body) and string data for the app."""

    title: str | None = None
    body: str | None = None
    data: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    android: AndroidOptions | None = None
    apns: ApnsOptions | None = None


@dataclass(frozen=True)
class PushTargets:
    """Who receives it: exactly one of 1..500 device tokens, one topic, or one topic condition.

    Built unchecked so that ``notifications.validation`` can answer every problem at once as
    field errors; use the ``to_*`` constructors for the usual cases.
    """

    tokens: tuple[str, ...] = ()
    topic: str | None = None
    condition: str | None = None

    @classmethod
    def to_tokens(cls, tokens: list[str] | tuple[str, ...]) -> PushTargets:
        return cls(tokens=tuple(tokens))

    @classmethod
    def to_topic(cls, topic: str) -> PushTargets:
        return cls(topic=topic)

    @classmethod
    def to_condition(cls, condition: str) -> PushTargets:
        return cls(condition=condition)

    @property
    def kind(self) -> TargetKind:
        """The target kind (meaningful only once validated: exactly one kind is set)."""
        if self.tokens:
            return "tokens"
        return "topic" if self.topic else "condition"

    @property
    def labels(self) -> list[str]:
        """The targets in result order: each token, or the single topic / condition."""
        if self.tokens:
            return list(self.tokens)
        return [self.topic or self.condition or ""]


@dataclass(frozen=True)
class TargetResult:
    """The outcome for one target, index-aligned with ``PushTargets.labels``.

    Exactly one of ``message_id`` (delivered to FCM) and ``error_code`` is set.
    ``dead_token``: the token will never work again (delete it; never send to it again).
    ``retryable``: the same message to the same target may succeed later (after
    ``retry_after_seconds`` when the provider said so). Never both dead and retryable.
    """

    target: str
    message_id: str | None
    error_code: PushErrorCode | None
    retryable: bool = False
    dead_token: bool = False
    error_message: str | None = None
    retry_after_seconds: float | None = None

    @property
    def is_delivered(self) -> bool:
        return self.message_id is not None


class PushProvider(ABC):
    """A push-notification provider connection (one instance per provider connection)."""

    name: ClassVar[str]
    rail: ClassVar[str] = "push"  # provider call records (core.provider_calls)

    @abstractmethod
    def send(self, message: PushMessage, targets: PushTargets, *, dry_run: bool = False) -> list[TargetResult]:
        """Send ``message`` to every target; answer one ``TargetResult`` per target, in order.

        Contract:
        - validates first (``notifications.validation.ensure_valid_push``) and raises
          ``core.errors.ValidationFailed`` with field errors BEFORE anything is sent: an invalid
          message must never reach the provider, not even for some targets;
        - one target's failure never hides another's success: per-target errors are results,
          not exceptions; only a refusal of the whole request before sending raises;
        - ``dry_run`` asks the provider to validate without delivering (FCM ``validate_only``).

        Must never happen:
        - a send to a token that an earlier result marked ``dead_token`` (callers delete it);
        - an automatic retry of ``INVALID_ARGUMENT`` (the same request fails the same way), of a
          dead token, or of a result that is not ``retryable``;
        - a retry of ``QUOTA_EXCEEDED`` before ``retry_after_seconds`` (or 60 s when unset);
        - a hidden retry inside the provider of a request that may already have been delivered
          (a read timeout is ``DEADLINE_EXCEEDED``, retryable, and may duplicate the push).
        """
