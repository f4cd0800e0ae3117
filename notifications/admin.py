"""Ops console: webhook deliveries with their attempts, push notifications with their targets (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from notifications.models import PushNotification, PushTarget, WebhookAttempt, WebhookDelivery
from notifications.webhooks import webhook_delivery_replay


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "outcome", "status_code", "latency_ms", "response_excerpt", "error")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "event_type", "partner", "status", "attempts_count", "last_status_code", "created_at")
    list_filter = ("status", "event_type")
    list_select_related = ("partner",)
    raw_id_fields = ("event", "partner")
    search_fields = ("public_id", "event_public_id")
    exclude = ("body",)
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            webhook_delivery_replay(delivery)
        self.message_user(request, f"{queryset.count()} deliveries queued again.", messages.SUCCESS)


class PushTargetInline(ReadOnlyInline):
    model = PushTarget
    fields = ("position", "status", "message_id", "error_code", "error_message", "attempts")
    readonly_fields = fields


@admin.register(PushNotification)
class PushNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "partner", "mode", "target_kind", "status", "sends", "created_at")
    list_filter = ("status", "mode", "target_kind")
    list_select_related = ("partner",)
    raw_id_fields = ("partner",)
    search_fields = ("public_id",)
    inlines = [PushTargetInline]
