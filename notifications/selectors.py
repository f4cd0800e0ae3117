"""Reads of notifications for the ops console: what was sent to partners about a transaction."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import PushNotification, WebhookDelivery


def deliveries_about(*, aggregate_type: str, aggregate_id: str) -> QuerySet[WebhookDelivery]:
    """Webhook deliveries of the events about one aggregate, with their attempts prefetched."""
    return (
        WebhookDelivery.objects.filter(event__aggregate_type=aggregate_type, event__aggregate_id=aggregate_id)
        .prefetch_related("attempts")
        .order_by("id")
    )


def pushes_about(*, aggregate_type: str, aggregate_id: str) -> QuerySet[PushNotification]:
    """Push notifications that push rules created from the events about one aggregate."""
    return PushNotification.objects.filter(
        source_event__aggregate_type=aggregate_type, source_event__aggregate_id=aggregate_id
    ).order_by("id")
