"""Ops console (docs/conventions.md §33, §38): webhook deliveries with their attempts and replay
(through the notifications service, audited), push notifications with their targets; read-only."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ActingAdminMixin, ConsoleAdmin, ConsoleInline
from ledger.admin import TimelineEntry, audited_each, timeline_source
from ledger.models import Transaction
from notifications.models import PushNotification, PushTarget, WebhookAttempt, WebhookDelivery
from notifications.selectors import deliveries_about, pushes_about
from notifications.webhooks import webhook_delivery_replay


@timeline_source
def _sent_to_partners(transaction: Transaction) -> Iterable[TimelineEntry]:
    about = {"aggregate_type": "transaction", "aggregate_id": transaction.public_id}
    for delivery in deliveries_about(**about):
        yield TimelineEntry(delivery.created_at, str(_("Webhook")), delivery.event_type, target=delivery)
        for attempt in delivery.attempts.all():
            detail = f"{delivery.event_type} · #{attempt.number} · HTTP {attempt.status_code or '—'}"
            yield TimelineEntry(attempt.started_at, str(_("Webhook attempt")), detail, attempt.outcome, delivery)
    for push in pushes_about(**about):
        yield TimelineEntry(push.created_at, str(_("Push notification")), push.target_kind, push.status, push)


class WebhookAttemptInline(ConsoleInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "outcome", "status_code", "latency_ms", "response_excerpt", "error")
    payload_fields = ("response_excerpt",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ActingAdminMixin, ConsoleAdmin):
    list_display = ("public_id", "event_type", "partner", "status", "attempts_count", "last_status_code", "created_at")
    list_filter = ("status", "event_type")
    list_select_related = ("partner",)
    search_fields = ("=public_id", "=event_public_id")
    payload_fields = ("body",)
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.action(description=_("Replay the selected deliveries"), permissions=("act",))
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed = audited_each(
            request, queryset.values_list("public_id", flat=True), action="webhook.replay",
            target="notifications.webhookdelivery", run=lambda public_id: webhook_delivery_replay(
                WebhookDelivery.objects.get(public_id=public_id)).status,
        )  # fmt: skip
        count = len(replayed)
        text = ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", count) % {"n": count}
        self.message_user(request, text, messages.SUCCESS)


class PushTargetInline(ConsoleInline):
    model = PushTarget
    fields = ("position", "target", "status", "message_id", "error_code", "error_message", "attempts")
    payload_fields = ("target",)


@admin.register(PushNotification)
class PushNotificationAdmin(ConsoleAdmin):
    list_display = ("public_id", "partner", "mode", "target_kind", "status", "sends", "created_at")
    list_filter = ("status", "mode", "target_kind")
    list_select_related = ("partner",)
    search_fields = ("=public_id",)
    payload_fields = ("message",)
    inlines = [PushTargetInline]
