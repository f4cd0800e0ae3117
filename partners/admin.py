"""Read-only admin lists of partners, their credentials and provider connections.

Key hashes, signing secrets and provider credentials are never shown: the pages list
explicit fields only. Changes go through services (commands today; admin actions with
four-eyes approval later).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyModelAdmin
from partners.models import ApiCredential, Partner, ProviderConnection, SigningSecret


@admin.register(Partner)
class PartnerAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "code", "public_id", "status", "rate_limit_per_minute", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "code", "public_id", "contact_email")
    fields = (
        "public_id", "name", "code", "status", "scopes", "ip_allowlist", "rate_limit_per_minute",
        "webhook_url", "contact_name", "contact_email", "contact_phone", "created_at", "updated_at",
    )  # fmt: skip


@admin.register(ApiCredential)
class ApiCredentialAdmin(ReadOnlyModelAdmin):
    list_display = ("key_prefix", "partner", "mode", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("mode", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("partner",)
    search_fields = ("key_prefix", "partner__code", "partner__name")
    fields = ("partner", "mode", "key_prefix", "label", "created_at", "last_used_at", "revoked_at")
    raw_id_fields = ("partner",)


@admin.register(SigningSecret)
class SigningSecretAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "partner", "mode", "status", "created_at", "revoked_at")
    list_filter = ("mode", "status")
    list_select_related = ("partner",)
    search_fields = ("partner__code", "partner__name")
    fields = ("partner", "mode", "status", "created_at", "revoked_at")
    raw_id_fields = ("partner",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningSecret]:
        return super().get_queryset(request).defer("secret")  # never decrypted for a page


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(ReadOnlyModelAdmin):
    list_display = ("public_id", "partner", "connector", "mode", "base_url", "is_enabled", "updated_at")
    list_filter = ("mode", "connector", "is_enabled")
    list_select_related = ("partner",)
    search_fields = ("public_id", "connector", "partner__code", "partner__name")
    fields = (
        "public_id", "partner", "connector", "mode", "base_url", "connect_timeout_seconds",
        "read_timeout_seconds", "limits", "is_enabled", "created_at", "updated_at",
    )  # fmt: skip
    raw_id_fields = ("partner",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProviderConnection]:
        return super().get_queryset(request).defer("credentials")  # never decrypted for a page
