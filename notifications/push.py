"""Push notifications for partners (issue 7 item 1): accept, store, send through FCM, retry.

The API validates the body with ``notifications.serializers.PushCreateSerializer`` (every
problem at once, 400) before anything is stored or sent. ``push_create`` stores the notification
and one row per target and enqueues ``notifications.push_send`` after commit. ``push_send`` (the
task's body) sends the pending targets through the partner mode's FCM connection
(``partners.registry.connector_session_for``: built, recorded, closed) and stores each result:
delivered (message id), dead (UNREGISTERED, SENDER_ID_MISMATCH, invalid token: never retried),
retryable (UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED, DEADLINE_EXCEEDED: sent again with the "push"
execution policy's backoff, ``core.policy``, at least ``Retry-After`` / 60 s for quota, at most
``max_attempts`` sends) or failed for good. Every FCM call of a push is recorded as a provider
call whose reference is the push's public id.

A send that fails unexpectedly (a bug, a stored message the code can no longer read) is logged
with the push's id and set aside: its pending targets fail with ``internal_error`` and the push
is completed, so the beat's safety net never picks it up again (docs/conventions.md §36).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import ErrorCode, GatewayError, NotFound, ServiceUnavailable, ValidationFailed
from core.policy import RetryPolicy, policy_for
from core.provider_calls import call_scope
from core.tasks import enqueue_on_commit
from ledger.models import OutboxEvent
from ledger.services.review import item_guard
from notifications.models import PushNotification, PushTarget
from notifications.providers.base import (
    AndroidOptions,
    ApnsOptions,
    PushErrorCode,
    PushMessage,
    PushProvider,
    PushTargets,
    TargetResult,
)
from notifications.validation import ensure_valid_push
from partners.models import Partner
from partners.registry import connector_session_for

logger = logging.getLogger("notifications.push")

RAIL = "push"  # the execution policy (settings.EXECUTION_POLICIES) and the provider-call rail
FCM_PROVIDER = "fcm"  # the provider partner's code
QUOTA_MIN_DELAY_SECONDS = 60.0  # docs/providers/fcm.md §2: back off at least a minute on QUOTA_EXCEEDED
LEASE_SECONDS = 120  # how long one send may hold a notification (not a retry number)
SEND_WORK = "notifications.push_send"


def _message_json(message: PushMessage) -> dict[str, Any]:
    return {
        "title": message.title,
        "body": message.body,
        "data": dict(message.data),
        "android": dataclasses.asdict(message.android) if message.android else None,
        "apns": dataclasses.asdict(message.apns) if message.apns else None,
    }


def _message_from_json(stored: dict[str, Any]) -> PushMessage:
    return PushMessage(
        title=stored.get("title"),
        body=stored.get("body"),
        data=stored.get("data") or {},
        android=AndroidOptions(**stored["android"]) if stored.get("android") else None,
        apns=ApnsOptions(**stored["apns"]) if stored.get("apns") else None,
    )


def push_create(
    *,
    partner: Partner,
    mode: str,
    message: PushMessage,
    targets: PushTargets,
    source_event: OutboxEvent | None = None,
) -> PushNotification:
    """Store a validated push (one row per target) and enqueue its send after commit."""
    ensure_valid_push(message, targets)
    with transaction.atomic():
        notification = PushNotification.objects.create(
            partner=partner,
            mode=mode,
            target_kind=targets.kind,
            message=_message_json(message),
            next_send_at=timezone.now(),
            source_event=source_event,
        )
        PushTarget.objects.bulk_create(
            PushTarget(notification=notification, position=index, target=label)
            for index, label in enumerate(targets.labels)
        )
        enqueue_on_commit(SEND_WORK, notification.pk)
    return notification


@dataclass(frozen=True)
class PushSendOutcome:
    """What one ``push_send`` did; ``retry_in`` is set when some targets wait for another send."""

    sent: int
    retry_in: float | None = None


def _claim(notification_id: int, *, force: bool) -> PushNotification | None:
    now = timezone.now()
    due = Q(status=PushNotification.Status.QUEUED) & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    if not force:
        due &= Q(next_send_at__lte=now)
    claimed = PushNotification.objects.filter(due, pk=notification_id).update(
        lease_until=now + timedelta(seconds=LEASE_SECONDS)
    )
    return PushNotification.objects.get(pk=notification_id) if claimed else None


def push_send(notification_id: int, *, force: bool = False) -> PushSendOutcome:
    """Send the pending targets of a notification if due (or ``force``), store the results.

    Never sends to a target that is delivered, dead or failed; never sends while another worker
    holds the notification's lease (safe to run twice). A provider that cannot be built (no
    connection) leaves the targets pending for a later send. An unexpected error is logged with
    the push's id and sets the push aside (``_set_aside``) instead of failing the same way forever.
    """
    notification = _claim(notification_id, force=force)
    if notification is None:
        return PushSendOutcome(sent=0)
    outcome: PushSendOutcome | None = None
    with item_guard(work=SEND_WORK, transaction=None, item=notification.public_id):
        outcome = _send_pending(notification)
    if outcome is None:  # the guard caught an unexpected error (logged with the push's id)
        _set_aside(notification)
        return PushSendOutcome(sent=0)
    return outcome


def _send_pending(notification: PushNotification) -> PushSendOutcome:
    pending = list(notification.targets.filter(status=PushTarget.Status.PENDING).order_by("position"))
    if not pending:
        _finish(notification, retry_in=None)
        return PushSendOutcome(sent=0)
    policy = policy_for(RAIL, notification.mode)
    message = _message_from_json(notification.message)
    try:
        with (
            connector_session_for(provider_code=FCM_PROVIDER, mode=notification.mode) as provider,
            call_scope(reference=notification.public_id),  # every FCM call of this push is recorded under its id
        ):
            results = _send(provider, notification.target_kind, message, [row.target for row in pending])
    except (NotFound, ServiceUnavailable) as exc:  # no usable FCM connection: nothing was sent
        return _connection_missing(notification, pending, exc, policy)
    retry_in = _store_results(notification, pending, results, policy)
    _finish(notification, retry_in=retry_in)
    return PushSendOutcome(sent=len(pending), retry_in=retry_in)


def _send(provider: PushProvider, target_kind: str, message: PushMessage, labels: list[str]) -> list[TargetResult]:
    if target_kind == "tokens":
        targets = PushTargets.to_tokens(labels)
    elif target_kind == "topic":
        targets = PushTargets.to_topic(labels[0])
    else:
        targets = PushTargets.to_condition(labels[0])
    try:
        return provider.send(message, targets)
    except ValidationFailed as exc:  # validated at acceptance; a rule changed since: refuse for good
        refused = PushErrorCode.INVALID_ARGUMENT
        return [TargetResult(label, None, refused, error_message=exc.detail) for label in labels]


def _connection_missing(
    notification: PushNotification, pending: list[PushTarget], error: GatewayError, policy: RetryPolicy
) -> PushSendOutcome:
    """Count the failed send; retry with backoff, and after ``max_attempts`` fail the pending targets."""
    send_number = notification.sends + 1
    logger.warning("push %s: no usable FCM connection (%s)", notification.public_id, error.detail)
    PushNotification.objects.filter(pk=notification.pk).update(sends=send_number)
    if not policy.is_exhausted(send_number):
        retry_in = retry_delay(send_number, [], policy)
        _finish(notification, retry_in=retry_in)
        return PushSendOutcome(sent=0, retry_in=retry_in)
    PushTarget.objects.filter(pk__in=[row.pk for row in pending]).update(
        status=PushTarget.Status.FAILED, error_code=str(error.code), error_message=error.detail[:300]
    )
    _finish(notification, retry_in=None)
    return PushSendOutcome(sent=0)


def _set_aside(notification: PushNotification) -> None:
    """Fail what is still pending with ``internal_error`` and complete the push: never retried."""
    with transaction.atomic():
        notification.targets.filter(status=PushTarget.Status.PENDING).update(
            status=PushTarget.Status.FAILED,
            error_code=str(ErrorCode.INTERNAL_ERROR),
            error_message="Set aside: the send failed unexpectedly; staff were alerted.",
            updated_at=timezone.now(),
        )
        _finish(notification, retry_in=None)


def retry_delay(send_number: int, results: list[TargetResult], policy: RetryPolicy) -> float:
    """Backoff before the next send: the policy's delay after send ``send_number`` (1-based), at
    least what the provider asked for."""
    delay = policy.delay(send_number - 1)
    for result in results:
        if result.retryable and result.error_code == PushErrorCode.QUOTA_EXCEEDED:
            delay = max(delay, result.retry_after_seconds or QUOTA_MIN_DELAY_SECONDS)
        elif result.retryable and result.retry_after_seconds:
            delay = max(delay, result.retry_after_seconds)
    return float(delay)


def _status_of(result: TargetResult, attempts: int, policy: RetryPolicy) -> str:
    if result.is_delivered:
        return PushTarget.Status.DELIVERED
    if result.dead_token:
        return PushTarget.Status.DEAD
    if result.retryable and not policy.is_exhausted(attempts):
        return PushTarget.Status.PENDING
    return PushTarget.Status.FAILED


def _store_results(
    notification: PushNotification, pending: list[PushTarget], results: list[TargetResult], policy: RetryPolicy
) -> float | None:
    send_number = notification.sends + 1
    waiting: list[TargetResult] = []
    with transaction.atomic():
        for row, result in zip(pending, results, strict=True):
            row.attempts += 1
            row.status = _status_of(result, row.attempts, policy)
            row.message_id = result.message_id or ""
            row.error_code = str(result.error_code) if result.error_code else ""
            row.error_message = (result.error_message or "")[:300]
            row.save(update_fields=["attempts", "status", "message_id", "error_code", "error_message", "updated_at"])
            if row.status == PushTarget.Status.PENDING:
                waiting.append(result)
        PushNotification.objects.filter(pk=notification.pk).update(sends=send_number)
    return retry_delay(send_number, waiting, policy) if waiting else None


def _finish(notification: PushNotification, *, retry_in: float | None) -> None:
    now = timezone.now()
    if retry_in is None:
        updates: dict[str, Any] = {"status": PushNotification.Status.COMPLETED, "completed_at": now}
    else:
        updates = {"next_send_at": now + timedelta(seconds=retry_in)}
    PushNotification.objects.filter(pk=notification.pk).update(lease_until=None, **updates)


def push_notifications_due(*, grace_seconds: float = 10.0, limit: int = 500) -> list[int]:
    """Ids of queued pushes whose send is overdue by ``grace_seconds`` and not leased: the beat
    safety net re-enqueues them (a task lost with its worker, a redelivery that found the lease)."""
    now = timezone.now()
    rows = PushNotification.objects.filter(
        status=PushNotification.Status.QUEUED, next_send_at__lte=now - timedelta(seconds=grace_seconds)
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    return list(rows.order_by("next_send_at").values_list("pk", flat=True)[:limit])


def push_representation(notification: PushNotification) -> dict[str, Any]:
    """What the API answers: the notification, a summary and one entry per target."""
    targets = list(notification.targets.order_by("position"))
    summary = dict.fromkeys(PushTarget.Status.values, 0)
    for row in targets:
        summary[row.status] += 1
    return {
        "id": notification.public_id,
        "object": "push_notification",
        "mode": notification.mode,
        "status": notification.status,
        "target_kind": notification.target_kind,
        "sends": notification.sends,
        "created_at": notification.created_at.isoformat(),
        "completed_at": notification.completed_at.isoformat() if notification.completed_at else None,
        "summary": summary,
        "targets": [
            {
                "target": row.target,
                "status": row.status,
                "message_id": row.message_id or None,
                "error_code": row.error_code or None,
                "attempts": row.attempts,
            }
            for row in targets
        ],
    }
