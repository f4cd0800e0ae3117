"""Signed webhooks to partners (issue 7 item 2, docs/architecture.md §5).

Every outbox event of a partner that has a ``webhook_url`` becomes one ``WebhookDelivery``
(unique per event and partner) when the relay hands it over. Each attempt POSTs the same body,
the event envelope, signed like the partner's own requests::

    X-Signature: t=<unix seconds>,v1=HMAC_SHA256(secret, "<t>\\nPOST\\n<path?query>\\n" + body)
    X-Event-Id: evt_…   X-Event-Type: transaction.succeeded

with one ``v1`` per active signing secret of the partner in the event's mode (rotation), the
timestamp fresh on every attempt. Outcomes: 2xx delivered; 5xx, 408, 429, timeouts and
connection errors retried with the "webhooks" execution policy's backoff (``core.policy``: first
delay, cap) for up to its ``review_after`` window (24 h) from the event's hand-over; any
other answer (4xx, 3xx) ends the delivery at once. The policy is the same in both modes: a test
partner's endpoint is the partner's own server, not one of our simulators, so the sandbox's
pace does not apply to it. The URL is validated again right
before each attempt (SSRF: DNS answers change), and the connection goes to the address checked.
Partners de-duplicate by ``X-Event-Id``.
One aggregate's events (a transaction's created → processing → succeeded) reach a partner in
event order: a later one waits while an earlier one is still pending (retrying) for that partner.
An attempt that fails unexpectedly (a bug, a secret that no longer decrypts) is logged with the
delivery's id and the delivery is set aside as failed: never retried by the safety net.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import ProviderError, ValidationFailed
from core.http import ProviderHttpClient, ProviderResponse, Timeouts, excerpt
from core.metrics import webhook_deliveries_total
from core.policy import RetryPolicy, policy_for
from core.signing import SIGNATURE_HEADER, format_signature_header, sign_request
from core.tasks import enqueue_on_commit
from ledger.models import OutboxEvent
from ledger.services.review import item_guard
from notifications.models import WebhookAttempt, WebhookDelivery
from partners.selectors import signing_secret_values_active
from partners.webhooks import WebhookTarget, webhook_target

logger = logging.getLogger("notifications.webhooks")

RAIL = "webhooks"  # settings.EXECUTION_POLICIES
DELIVER_WORK = "notifications.webhook_deliver"
LEASE_SECONDS = 60  # how long one attempt may hold a delivery (not a retry number)
ORDER_WAIT_SECONDS = 1.0  # how long after an earlier event's attempt a later one tries again
TIMEOUTS = Timeouts(connect=3.0, read=10.0)
RETRYABLE_STATUSES = frozenset({408, 429})


def event_envelope(event: OutboxEvent) -> dict[str, object]:
    """The envelope every consumer sees (Kafka and webhooks): id, type, occurred_at, partner, mode, data."""
    return {
        "id": event.public_id,
        "type": event.type,
        "occurred_at": event.created_at.isoformat(),
        "partner": event.partner.public_id,
        "mode": event.mode,
        "data": event.payload,
    }


def envelope_bytes(event: OutboxEvent) -> bytes:
    return json.dumps(event_envelope(event), separators=(",", ":"), sort_keys=True).encode()


def webhook_deliveries_create(events: list[OutboxEvent]) -> list[int]:
    """Create the missing deliveries of ``events`` (partners with a webhook URL); answer the new ids.

    Idempotent: an event already handed over keeps its one delivery (UniqueConstraint), so the
    relay may call this again for rows it could not mark published.
    """
    wanted = [event for event in events if event.partner.webhook_url]
    if not wanted:
        return []
    existing = set(
        WebhookDelivery.objects.filter(event__in=wanted).values_list("event_id", flat=True)  # FK column
    )
    rows = [
        WebhookDelivery(
            event=event,
            partner=event.partner,
            event_public_id=event.public_id,
            event_type=event.type,
            url=event.partner.webhook_url,
            body=envelope_bytes(event),
            next_attempt_at=timezone.now(),
        )
        for event in wanted
        if event.pk not in existing
    ]
    created = WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    ids = {row.public_id for row in created}
    return list(WebhookDelivery.objects.filter(public_id__in=ids).values_list("pk", flat=True))


@dataclass(frozen=True)
class AttemptResult:
    """What one call of ``webhook_delivery_attempt`` did; ``retry_in`` is set when another is due."""

    attempted: bool
    status: str
    retry_in: float | None = None


def _claim(delivery_id: int, *, now: datetime, force: bool) -> WebhookDelivery | None:
    due = Q(status=WebhookDelivery.Status.PENDING)
    if not force:
        due &= Q(next_attempt_at__lte=now)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claimed = WebhookDelivery.objects.filter(due & free, pk=delivery_id).update(
        lease_until=now + timedelta(seconds=LEASE_SECONDS)
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("partner", "event").get(pk=delivery_id)


def webhook_delivery_attempt(delivery_id: int, *, force: bool = False) -> AttemptResult:
    """Make the next attempt of a delivery if it is due (or ``force``), and record it.

    Never sends a delivery that is delivered, failed, not yet due, or leased by another worker
    (safe to run twice). Never sends to a URL that no longer passes ``validate_webhook_url``.
    Never sends an event while an earlier event of the same aggregate is pending for the partner.
    An unexpected error is logged with the delivery's id and sets the delivery aside (failed).
    """
    now = timezone.now()
    delivery = _claim(delivery_id, now=now, force=force)
    if delivery is None:
        return AttemptResult(attempted=False, status="not_due")
    result: AttemptResult | None = None
    with item_guard(work=DELIVER_WORK, transaction=None, item=delivery.public_id):
        result = _attempt(delivery, now=now)
    if result is None:  # the guard caught an unexpected error (logged with the delivery's id)
        return _set_aside(delivery)
    return result


def _attempt(delivery: WebhookDelivery, *, now: datetime) -> AttemptResult:
    wait = _earlier_pending(delivery, now=now)
    if wait is not None:
        return wait
    number = delivery.attempts_count + 1
    try:
        target = webhook_target(delivery.url, delivery.event.mode)  # resolved once, every address checked
    except ValidationFailed as exc:
        return _record(delivery, number, now, WebhookAttempt.Outcome.URL_REFUSED, error=exc.detail[:200])
    started = time.perf_counter()
    try:
        response = _post(delivery, target)
    except ProviderError as exc:
        latency = time.perf_counter() - started
        return _record(delivery, number, now, WebhookAttempt.Outcome.RETRYABLE, latency=latency, error=str(exc))
    latency = time.perf_counter() - started
    return _record(delivery, number, now, _outcome_of(response.status), latency=latency, response=response)


def _set_aside(delivery: WebhookDelivery) -> AttemptResult:
    """Fail the delivery for good (no attempt is recorded: none was made as far as we know)."""
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED,
        last_error="Set aside: the attempt failed unexpectedly; staff were alerted.",
        lease_until=None,
        next_attempt_at=None,
        updated_at=now,
    )
    return AttemptResult(attempted=False, status=WebhookDelivery.Status.FAILED)


def _earlier_pending(delivery: WebhookDelivery, *, now: datetime) -> AttemptResult | None:
    """Keep one aggregate's webhooks in event order: while an earlier event of the same aggregate
    is still pending for this partner, postpone this one (no attempt counted, nothing sent) until
    just after the earlier one's next attempt."""
    earlier = (
        WebhookDelivery.objects.filter(
            partner_id=delivery.partner_id,
            status=WebhookDelivery.Status.PENDING,
            event__aggregate_type=delivery.event.aggregate_type,
            event__aggregate_id=delivery.event.aggregate_id,
            event_id__lt=delivery.event_id,
        )
        .order_by("event_id")
        .values_list("pk", "next_attempt_at")
        .first()
    )
    if earlier is None:
        return None
    earliest = max(earlier[1] or now, now)
    retry_in = (earliest - now).total_seconds() + ORDER_WAIT_SECONDS
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=None, next_attempt_at=now + timedelta(seconds=retry_in), updated_at=now
    )
    return AttemptResult(attempted=False, status="waiting_for_earlier", retry_in=retry_in)


def _outcome_of(status: int) -> str:
    if 200 <= status < 300:
        return WebhookAttempt.Outcome.DELIVERED
    if status >= 500 or status in RETRYABLE_STATUSES:
        return WebhookAttempt.Outcome.RETRYABLE
    return WebhookAttempt.Outcome.REFUSED


def _post(delivery: WebhookDelivery, target: WebhookTarget) -> ProviderResponse:
    """POST to the checked address (pinned: a DNS answer changed since the check cannot redirect
    the connection), naming the partner's host in ``Host`` and TLS; a redirect is not followed."""
    parts = urlsplit(delivery.url)
    path_with_query = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = bytes(delivery.body)
    secrets = signing_secret_values_active(partner_id=delivery.partner_id, mode=delivery.event.mode)
    stamp = int(time.time())
    signatures = [sign_request(secret, stamp, "POST", path_with_query, body) for secret in secrets]
    client = ProviderHttpClient(
        provider="partner_webhook", base_url=target.pinned_origin, timeouts=TIMEOUTS, tls_server_name=target.host
    )
    try:
        return client.request(
            "POST",
            path_with_query,
            operation="webhook",
            data=body,
            headers={
                "Host": target.host_header,
                "Content-Type": "application/json",
                SIGNATURE_HEADER: format_signature_header(stamp, signatures),
                "X-Event-Id": delivery.event_public_id,
                "X-Event-Type": delivery.event_type,
                "X-Delivery-Id": delivery.public_id,
            },
            raise_for_status=False,
        )
    finally:
        client.close()


def retry_delay(attempt_number: int, policy: RetryPolicy | None = None) -> float:
    """Seconds before attempt ``attempt_number + 1``: the policy's bounded exponential backoff."""
    return (policy or policy_for(RAIL)).delay(attempt_number - 1)


def _record(
    delivery: WebhookDelivery,
    number: int,
    now: datetime,
    outcome: str,
    *,
    latency: float = 0.0,
    response: ProviderResponse | None = None,
    error: str = "",
) -> AttemptResult:
    status_code = response.status if response is not None else None
    retry_in: float | None = None
    if outcome == WebhookAttempt.Outcome.DELIVERED:
        status = WebhookDelivery.Status.DELIVERED
    elif outcome == WebhookAttempt.Outcome.RETRYABLE:
        policy = policy_for(RAIL)  # one policy in both modes (module docstring)
        retry_in = retry_delay(number, policy)
        window_end = delivery.created_at + timedelta(seconds=policy.review_after)
        # the window bounds the attempts (a replay opens a new one), not max_attempts
        given_up = now + timedelta(seconds=retry_in) > window_end
        status = WebhookDelivery.Status.FAILED if given_up else WebhookDelivery.Status.PENDING
        retry_in = None if given_up else retry_in
    else:
        status = WebhookDelivery.Status.FAILED
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=now,
            outcome=outcome,
            status_code=status_code,
            latency_ms=int(latency * 1000),
            response_excerpt=excerpt(response.content)[:1000] if response is not None else "",
            error=error[:200],
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status,
            attempts_count=number,
            last_status_code=status_code,
            last_error=error[:200],
            lease_until=None,
            next_attempt_at=now + timedelta(seconds=retry_in) if retry_in is not None else None,
            delivered_at=timezone.now() if status == WebhookDelivery.Status.DELIVERED else None,
            updated_at=timezone.now(),
        )
    webhook_deliveries_total.labels(outcome).inc()
    logger.info(
        "webhook %s attempt %d: %s",
        delivery.public_id,
        number,
        outcome,
        extra={"event_id": delivery.event_public_id, "status_code": status_code, "partner": delivery.partner_id},
    )
    return AttemptResult(attempted=True, status=status, retry_in=retry_in)


def webhook_delivery_replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (ops console, partner request): back to pending, due now, with a new
    retry window (the policy's ``review_after``). The body and event id stay the same, so the
    partner can de-duplicate."""
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=now,
        lease_until=None,
        delivered_at=None,
        created_at=now,
        updated_at=now,
    )
    enqueue_on_commit(DELIVER_WORK, delivery.pk)
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    """Ids of pending deliveries whose next attempt is due (the beat safety net re-enqueues them)."""
    now = timezone.now()
    rows = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    return list(rows.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
