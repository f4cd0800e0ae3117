"""One retry, poll and review policy for every rail (bounded exponential backoff).

Each rail's numbers are settings declared through ``config/env.py`` (``<RAIL>_POLL_FIRST_SECONDS``,
``<RAIL>_POLL_MAX_SECONDS``, ``<RAIL>_MAX_ATTEMPTS``, ``<RAIL>_REVIEW_AFTER_SECONDS``) and
gathered in ``settings.EXECUTION_POLICIES``. Test-mode work talks to the sandbox, which answers
at once: its delays are capped by ``SANDBOX_POLL_FIRST_SECONDS`` and ``SANDBOX_POLL_MAX_SECONDS``
and its review age by ``SANDBOX_REVIEW_AFTER_SECONDS``, so every sandbox path resolves within a
minute (DESIGN: "with the sandbox, the status poller runs every few seconds").

Nothing here sleeps: callers turn a delay into a ``next_poll_at`` column or a task countdown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

MAX_EXPONENT = 30


@dataclass(frozen=True)
class RetryPolicy:
    """How often to ask again, how many sends to try, when to ask staff to look."""

    first_delay: float  # seconds before the first retry or status query (0: at once)
    max_delay: float  # the backoff never waits longer than this
    max_attempts: int  # sends (or retries) before staff are asked to look
    review_after: float  # seconds of age after which an unresolved movement is flagged

    def __post_init__(self) -> None:
        if not (0 <= self.first_delay <= self.max_delay) or self.max_attempts < 1 or self.review_after < 0:
            raise ValueError(f"inconsistent retry policy {self!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counted from 0)."""
        return float(min(self.first_delay * 2 ** min(max(attempt, 0), MAX_EXPONENT), self.max_delay))

    def next_at(self, attempt: int, *, now: datetime | None = None) -> datetime:
        return (now or timezone.now()) + timedelta(seconds=self.delay(attempt))

    def is_exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def is_overdue(self, created_at: datetime, *, now: datetime | None = None) -> bool:
        """True once a movement created at ``created_at`` has waited past the review age."""
        return (now or timezone.now()) - created_at > timedelta(seconds=self.review_after)


def policy_for(rail: str, mode: str = "live") -> RetryPolicy:
    """The policy of ``rail`` (``bills``, ``mobile_money``, ``banking``, ``push``, ``webhooks``)
    for work in ``mode``; test-mode work is capped to the sandbox's pace."""
    try:
        policy: RetryPolicy = settings.EXECUTION_POLICIES[rail]
    except KeyError:
        raise LookupError(f"no execution policy for rail {rail!r}") from None
    if mode != "test":
        return policy
    return replace(
        policy,
        first_delay=min(policy.first_delay, float(settings.SANDBOX_POLL_FIRST_SECONDS)),
        max_delay=min(policy.max_delay, float(settings.SANDBOX_POLL_MAX_SECONDS)),
        review_after=min(policy.review_after, float(settings.SANDBOX_REVIEW_AFTER_SECONDS)),
    )
