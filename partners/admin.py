"""Onboarding in the console: partners, their credentials and limits, provider connections.

Every write goes through ``partners.services`` (docs/conventions.md §33). Test-mode operations
apply at once; live-mode changes of scopes and limits, and rotation or revocation of live
credentials, are sent to the four-eyes request form (``admin:approvals_approvalrequest_add``,
approvals/admin.py) instead. Key hashes, signing secrets and provider credentials are never
shown: a new key and secret appear once, in the answer of the request that made them
(partners/views.py), and provider credentials are write-only ("•••• set").
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyModelAdmin
from core.errors import GatewayError
from partners import views
from partners.forms import PartnerForm, ProviderConnectionForm
from partners.models import ApiCredential, Mode, Partner, ProviderConnection, SigningSecret
from partners.selectors import partner_has_live_access
from partners.services import (
    CONTACT_FIELDS,
    api_credential_revoke,
    partner_contact_update,
    partner_reactivate,
    partner_register,
    partner_suspend,
    partner_update,
    provider_connection_test,
    provider_connection_upsert,
)
from partners.views import four_eyes_url

ONBOARD_PERMISSION = "backoffice.make_request"  # operators onboard; live changes need a second person


class OnboardingPermissions:
    """Staff who may make requests may onboard: add and change (never delete)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(ONBOARD_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(ONBOARD_PERMISSION)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _copy_saved(obj: Any, saved: Any) -> None:
    """The admin goes on with ``obj``: give it the row the service saved."""
    obj.__dict__.update({key: value for key, value in saved.__dict__.items() if key != "_state"})
    obj._state.adding = False


@admin.register(Partner)
class PartnerAdmin(OnboardingPermissions, admin.ModelAdmin):
    form = PartnerForm
    list_display = ("name", "code", "public_id", "status", "rate_limit_per_minute", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "code", "public_id", "contact_email")
    readonly_fields = ("public_id", "status", "created_at", "updated_at", "onboarding")
    actions = ["suspend", "reactivate"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ["name", "code", *CONTACT_FIELDS, "webhook_url", "scopes", "ip_allowlist", "rate_limit_per_minute"]
        return editable if obj is None else ["public_id", "status", *editable, "onboarding", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("code")
            if partner_has_live_access(partner=obj):
                fields.append("scopes")  # a live partner's scopes change through four-eyes
        return fields

    @admin.display(description="credentials and limits")
    def onboarding(self, obj: Partner) -> str:
        links = [
            (reverse("admin:partners_partner_credentials", args=[obj.pk]), "API credentials"),
            (reverse("admin:partners_partner_limits", args=[obj.pk]), "limits"),
        ]
        if partner_has_live_access(partner=obj):
            links.append((four_eyes_url("partner_scopes", obj.code), "change live scopes (four-eyes)"))
        return format_html(" · ".join(['<a href="{}">{}</a>'] * len(links)), *[part for link in links for part in link])

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        data = form.cleaned_data
        contact = {key: data.get(key, "") for key in CONTACT_FIELDS}
        if not change:
            saved = partner_register(
                name=data["name"],
                code=data["code"],
                scopes=data["scopes"],
                webhook_url=data["webhook_url"],
                ip_allowlist=data["ip_allowlist"],
                rate_limit_per_minute=data["rate_limit_per_minute"],
                contact=contact,
            )
            _copy_saved(obj, saved)
            return
        partner = Partner.objects.get(pk=obj.pk)
        partner_contact_update(partner=partner, name=data["name"], contact=contact)
        saved = partner_update(
            partner=partner,
            scopes=data.get("scopes") if "scopes" in data else None,
            ip_allowlist=data["ip_allowlist"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
            webhook_url=data["webhook_url"],
        )
        _copy_saved(obj, saved)

    def response_add(self, request: HttpRequest, obj: Partner, post_url_continue: str | None = None) -> HttpResponse:
        messages.success(request, f"Partner {obj.code} created. Issue its credentials now.")
        return HttpResponseRedirect(reverse("admin:partners_partner_credentials", args=[obj.pk]))

    @admin.action(description="Suspend the selected partners (every API request refused)")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            partner_suspend(partner=partner)
            self.log_change(request, partner, "suspended")
        messages.success(request, f"{queryset.count()} partner(s) suspended.")

    @admin.action(description="Reactivate the selected partners")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            partner_reactivate(partner=partner)
            self.log_change(request, partner, "reactivated")
        messages.success(request, f"{queryset.count()} partner(s) reactivated.")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/credentials/", wrap(views.credentials_view(self)), name="partners_partner_credentials"),
            path("<int:pk>/limits/", wrap(views.limits_view(self)), name="partners_partner_limits"),
            *super().get_urls(),
        ]


@admin.register(ApiCredential)
class ApiCredentialAdmin(ReadOnlyModelAdmin):
    list_display = ("key_prefix", "partner", "mode", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("mode", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("partner",)
    search_fields = ("key_prefix", "partner__code", "partner__name")
    fields = ("partner", "mode", "key_prefix", "label", "created_at", "last_used_at", "revoked_at")
    raw_id_fields = ("partner",)
    actions = ["revoke"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.has_perm(ONBOARD_PERMISSION):
            actions.pop("revoke", None)
        return actions

    @admin.action(description="Revoke the selected keys (live keys: ask four-eyes)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiCredential]) -> HttpResponse | None:
        live = [credential for credential in queryset if credential.mode == Mode.LIVE and credential.is_active]
        for credential in queryset.filter(mode=Mode.TEST):
            api_credential_revoke(credential=credential)
            self.log_change(request, credential, "revoked")
        if len(live) == 1:
            return HttpResponseRedirect(four_eyes_url("revoke_key", str(live[0].pk)))
        if live:
            messages.warning(request, "Live keys are revoked through four-eyes: ask for each one from its page.")
        messages.success(request, "Test keys revoked at once.")
        return None


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
class ProviderConnectionAdmin(OnboardingPermissions, admin.ModelAdmin):
    form = ProviderConnectionForm
    list_display = (
        "public_id", "partner", "provider_code", "connector", "mode", "base_url", "is_enabled", "updated_at",
    )  # fmt: skip
    list_filter = ("mode", "connector", "is_enabled")
    list_select_related = ("partner",)
    search_fields = ("public_id", "connector", "partner__code", "partner__name")
    fields = (
        "partner", "mode", "connector", "provider_code", "currency", "base_url", "credentials_json",
        "connect_timeout_seconds", "read_timeout_seconds", "limits", "is_enabled",
    )  # fmt: skip
    raw_id_fields = ("partner",)
    actions = ["test_connection"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProviderConnection]:
        return super().get_queryset(request).defer("credentials")  # never decrypted for a list

    def save_model(self, request: HttpRequest, obj: ProviderConnection, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = provider_connection_upsert(
            partner=data["partner"],
            mode=data["mode"],
            connector=data["connector"],
            base_url=data["base_url"],
            credentials=data["credentials_json"],  # None: keep what is stored
            connect_timeout_seconds=data["connect_timeout_seconds"],
            read_timeout_seconds=data["read_timeout_seconds"],
            limits=data["limits"] or {},
            is_enabled=data["is_enabled"],
            provider_code=data["provider_code"],
            currency=data["currency"],
        )
        _copy_saved(obj, saved)

    @admin.action(description="Test connection (ask the provider's balance or status)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[ProviderConnection]) -> None:
        for connection in queryset.select_related("partner"):
            try:
                result = provider_connection_test(connection=ProviderConnection.objects.get(pk=connection.pk))
            except GatewayError as exc:
                messages.error(request, f"{connection}: {exc.detail}")
                continue
            level = messages.SUCCESS if result.ok else messages.ERROR
            messages.add_message(request, level, f"{connection}: {result.answer} ({result.latency_ms} ms)")
