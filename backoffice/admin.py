"""The audit log in the console: read-only for everyone, superusers included (docs/staff-security.md §3)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from backoffice.models import AuditRecord

REPORTS_PERMISSION = "backoffice.view_reports"


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("seq", "created_at", "actor_username", "action", "target", "ip_address")
    list_filter = ("action", "actor_username", "created_at")
    search_fields = ("target",)
    search_help_text = "Search by target, such as partner:ptn_… or user:alice"
    date_hierarchy = "created_at"
    ordering = ("-seq",)
    show_full_result_count = False
    fields = (
        "seq",
        "created_at",
        "actor_username",
        "action",
        "target",
        "data",
        "ip_address",
        "request_id",
        "previous_hash",
        "record_hash",
    )
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(REPORTS_PERMISSION)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
