"""Push notifications for partners (issue 7 item 1): accept, store, send through FCM, retry.

``push_request_parse`` turns the API body into the rail's dataclasses and refuses every problem
at once (400) before anything is stored or sent. ``push_create`` stores the notification and one
row per target and enqueues ``notifications.push_send`` after commit. ``push_send`` (the task's
body) sends the pending targets through the partner mode's FCM connection and stores each
result: delivered (message id), dead (UNREGISTERED, SENDER_ID_MISMATCH, invalid token: never
retried), retryable (UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED, DEADLINE_EXCEEDED: sent again with
exponential backoff, at least ``Retry-After`` / 60 s for quota, at most ``MAX_SENDS`` sends) or
failed for good.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import FieldError, GatewayError, NotFound, ServiceUnavailable, ValidationFailed
from ledger.models import OutboxEvent
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
from partners.registry import build_connector
from partners.selectors import provider_connection_for_provider

logger = logging.getLogger("notifications.push")

MAX_SENDS = 5
DEFAULT_RETRY_BASE_SECONDS = 5.0
MAX_RETRY_DELAY_SECONDS = 600.0
QUOTA_MIN_DELAY_SECONDS = 60.0  # providers.md §5.2: back off at least a minute on QUOTA_EXCEEDED
LEASE_SECONDS = 120
PUSH_FIELDS = frozenset({"tokens", "topic", "condition", "title", "body", "data", "options"})


def _options(raw: Any, cls: type[Any], name: str, errors: list[FieldError]) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.append(FieldError(f"options.{name}", "Must be an object."))
        return None
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        errors.append(FieldError(f"options.{name}", f"Unknown options: {', '.join(unknown)}."))
        return None
    return cls(**raw)


def push_request_parse(data: Any) -> tuple[PushMessage, PushTargets]:
    """The message and targets of a ``POST /notifications/push`` body; ``ValidationFailed`` listing
    every problem (shape and FCM rules, ``notifications.validation``) otherwise."""
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", errors=[FieldError("body", "Must be an object.")])
    errors = [FieldError(key, "Unknown field.") for key in sorted(set(data) - PUSH_FIELDS)]
    tokens = data.get("tokens") or []
    if not isinstance(tokens, list):
        errors.append(FieldError("tokens", "Must be a list of device tokens."))
        tokens = []
    options = data.get("options") or {}
    if not isinstance(options, dict):
        errors.append(FieldError("options", "Must be an object with android and/or apns."))
        options = {}
    android = _options(options.get("android"), AndroidOptions, "android", errors)
    apns = _options(options.get("apns"), ApnsOptions, "apns", errors)
    message = PushMessage(
        title=data.get("title"), body=data.get("body"), data=data.get("data") or {}, android=android, apns=apns
    )
    targets = PushTargets(tokens=tuple(tokens), topic=data.get("topic"), condition=data.get("condition"))
    if errors:
        raise ValidationFailed("The push notification is invalid.", errors=errors)
    ensure_valid_push(message, targets)
    return message, targets


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
    from notifications.tasks import push_send_task

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
        transaction.on_commit(lambda: push_send_task.delay(notification.pk))
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
    connection) leaves the targets pending for a later send.
    """
    notification = _claim(notification_id, force=force)
    if notification is None:
        return PushSendOutcome(sent=0)
    pending = list(notification.targets.filter(status=PushTarget.Status.PENDING).order_by("position"))
    if not pending:
        _finish(notification, retry_in=None)
        return PushSendOutcome(sent=0)
    try:
        connection = provider_connection_for_provider(provider_code="fcm", mode=notification.mode)
        provider: PushProvider = build_connector(connection)
    except (NotFound, ServiceUnavailable) as exc:  # no usable FCM connection: nothing was sent
        return _connection_missing(notification, pending, exc)
    message = _message_from_json(notification.message)
    labels = [row.target for row in pending]
    if notification.target_kind == "tokens":
        targets = PushTargets.to_tokens(labels)
    elif notification.target_kind == "topic":
        targets = PushTargets.to_topic(labels[0])
    else:
        targets = PushTargets.to_condition(labels[0])
    try:
        results = provider.send(message, targets)
    except ValidationFailed as exc:  # validated at acceptance; a rule changed since: refuse for good
        refused = PushErrorCode.INVALID_ARGUMENT
        results = [TargetResult(label, None, refused, error_message=exc.detail) for label in labels]
    retry_in = _store_results(notification, pending, results)
    _finish(notification, retry_in=retry_in)
    return PushSendOutcome(sent=len(pending), retry_in=retry_in)


def _connection_missing(
    notification: PushNotification, pending: list[PushTarget], error: GatewayError
) -> PushSendOutcome:
    """Count the failed send; retry with backoff, and after ``MAX_SENDS`` fail the pending targets."""
    send_number = notification.sends + 1
    logger.warning("push %s: no usable FCM connection (%s)", notification.public_id, error.detail)
    PushNotification.objects.filter(pk=notification.pk).update(sends=send_number)
    if send_number < MAX_SENDS:
        retry_in = retry_delay(send_number, [])
        _finish(notification, retry_in=retry_in)
        return PushSendOutcome(sent=0, retry_in=retry_in)
    PushTarget.objects.filter(pk__in=[row.pk for row in pending]).update(
        status=PushTarget.Status.FAILED, error_code=str(error.code), error_message=error.detail[:300]
    )
    _finish(notification, retry_in=None)
    return PushSendOutcome(sent=0)


def retry_delay(send_number: int, results: list[TargetResult]) -> float:
    """Backoff before the next send: base * 2^(n-1) (capped), at least what the provider asked."""
    base = float(getattr(settings, "PUSH_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS))
    delay = min(base * 2 ** (send_number - 1), MAX_RETRY_DELAY_SECONDS)
    for result in results:
        if result.retryable and result.error_code == PushErrorCode.QUOTA_EXCEEDED:
            delay = max(delay, result.retry_after_seconds or QUOTA_MIN_DELAY_SECONDS)
        elif result.retryable and result.retry_after_seconds:
            delay = max(delay, result.retry_after_seconds)
    return float(delay)


def _status_of(result: TargetResult, attempts: int) -> str:
    if result.is_delivered:
        return PushTarget.Status.DELIVERED
    if result.dead_token:
        return PushTarget.Status.DEAD
    if result.retryable and attempts < MAX_SENDS:
        return PushTarget.Status.PENDING
    return PushTarget.Status.FAILED


def _store_results(
    notification: PushNotification, pending: list[PushTarget], results: list[TargetResult]
) -> float | None:
    send_number = notification.sends + 1
    waiting: list[TargetResult] = []
    with transaction.atomic():
        for row, result in zip(pending, results, strict=True):
            row.attempts += 1
            row.status = _status_of(result, row.attempts)
            row.message_id = result.message_id or ""
            row.error_code = str(result.error_code) if result.error_code else ""
            row.error_message = (result.error_message or "")[:300]
            row.save(update_fields=["attempts", "status", "message_id", "error_code", "error_message", "updated_at"])
            if row.status == PushTarget.Status.PENDING:
                waiting.append(result)
        PushNotification.objects.filter(pk=notification.pk).update(sends=send_number)
    return retry_delay(send_number, waiting) if waiting else None


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
