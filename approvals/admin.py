"""The four-eyes console: the request form, the list, and a request's page with its decision.

Request form contract (other pages link to it): ``reverse("admin:approvals_approvalrequest_add")``
with ``?action=<code>&target=<id>`` (codes: ``approvals.models.Action``; any other field of the
form may be prefilled the same way). Writes go through ``approvals.services`` (docs/conventions.md §33).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from approvals.forms import ApprovalRequestForm, DecisionForm
from approvals.models import ApprovalRequest, RequestStatus
from approvals.services import (
    DECIDE_PERMISSION,
    MAKE_PERMISSION,
    approval_request_approve,
    approval_request_create,
    approval_request_reject,
    approval_secret_reveal,
)
from core.errors import GatewayError

VIEW_PERMISSIONS = (MAKE_PERMISSION, DECIDE_PERMISSION, "backoffice.view_reports")


def _pretty(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "action", "target", "status", "maker", "checker", "created_at", "expires_at")
    list_filter = ("status", "action")
    search_fields = ("target", "maker__username", "checker__username")
    list_select_related = ("maker", "checker")
    date_hierarchy = "created_at"
    fields = (
        "action", "target", "status", "reason", "current", "requested", "maker", "checker", "created_at",
        "expires_at", "decided_at", "decision_note", "executed_at", "outcome", "failure_message",
    )  # fmt: skip
    readonly_fields = fields
    change_form_template = "approvals/change_form.html"

    @admin.display(description="current value")
    def current(self, obj: ApprovalRequest) -> str:
        return _pretty(obj.current_value)

    @admin.display(description="requested value")
    def requested(self, obj: ApprovalRequest) -> str:
        return _pretty(obj.requested_value)

    @admin.display(description="result")
    def outcome(self, obj: ApprovalRequest) -> str:
        return _pretty(obj.result) if obj.result else "—"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return any(request.user.has_perm(permission) for permission in VIEW_PERMISSIONS)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MAKE_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        decide = self.admin_site.admin_view(require_POST(self.decide_view))
        return [path("<int:pk>/decide/", decide, name="approvals_approvalrequest_decide"), *super().get_urls()]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApprovalRequestForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            try:
                created = approval_request_create(
                    maker=request.user,
                    action=form.cleaned_data["action"],
                    target=form.cleaned_data["target"],
                    requested=form.requested(),
                    reason=form.cleaned_data["reason"],
                )
            except GatewayError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, f"Request #{created.pk} recorded: another staff member must approve it.")
                return HttpResponseRedirect(reverse("admin:approvals_approvalrequest_change", args=[created.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Ask for a four-eyes action",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "approvals/request_form.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        approval = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if approval is not None:
            pending = approval.status == RequestStatus.PENDING
            extra["can_decide"] = (
                pending and request.user.has_perm(DECIDE_PERMISSION) and approval.maker_id != request.user.pk
            )
            extra["is_maker_waiting"] = pending and approval.maker_id == request.user.pk
            extra["decision_form"] = DecisionForm()
            extra["new_secret"] = approval_secret_reveal(approval=approval, user=request.user)
        response = super().change_view(request, object_id, form_url, extra)
        response["Cache-Control"] = "no-store"  # a secret shown once is never kept by a cache
        return response

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        approval = get_object_or_404(ApprovalRequest, pk=pk)
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            if request.POST.get("decision") == "approve":
                done = approval_request_approve(approval=approval, checker=request.user, note=note)
                if done.status == RequestStatus.EXECUTED:
                    messages.success(request, f"Request #{done.pk} approved and executed.")
                else:
                    messages.error(request, f"Request #{done.pk} approved but not executed: {done.failure_message}")
            else:
                approval_request_reject(approval=approval, checker=request.user, note=note)
                messages.success(request, f"Request #{approval.pk} rejected: nothing was done.")
        except GatewayError as exc:
            messages.error(request, exc.detail)
        return HttpResponseRedirect(reverse("admin:approvals_approvalrequest_change", args=[approval.pk]))
