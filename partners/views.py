"""Console pages of onboarding that are not one model's form: a partner's credentials and limits.

New credentials are shown once, in the answer of the POST that made them, and never again: they
are not in the session or in the database in clear (the key is hashed, the secret encrypted). The
form carries a one-time nonce kept in the session, so re-sending the same POST (a reload of the
answer) issues nothing and shows nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from core.errors import GatewayError
from core.money import Money
from core.signing import sign_request
from partners.forms import CredentialsForm, LimitForm
from partners.models import ApiCredential, Mode, Partner
from partners.selectors import signing_secret_list_active
from partners.services import (
    partner_credentials_issue,
    partner_limit_set,
    partner_limits_describe,
    signing_secret_revoke_previous,
    signing_secret_rotate,
)

NONCE_KEY = "partners.credentials_nonce"
EXAMPLE_PATH = "/api/v1/me"
Page = Callable[[HttpRequest, int], HttpResponse]


def four_eyes_url(action: str, target: str, **fields: str) -> str:
    """The four-eyes request form, prefilled (the contract of approvals/admin.py)."""
    query = urlencode({"action": action, "target": target, **fields})
    return f"{reverse('admin:approvals_approvalrequest_add')}?{query}"


def _four_eyes(action: str, target: str, **fields: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(four_eyes_url(action, target, **fields))


def _context(model_admin: admin.ModelAdmin, request: HttpRequest, partner: Partner, title: str) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": partner,
        "partner": partner,
        "title": title,
    }


def _allowed(model_admin: admin.ModelAdmin, request: HttpRequest) -> None:
    if not model_admin.has_change_permission(request):
        raise PermissionDenied


def signing_example(secret: str, *, t: int | None = None) -> dict[str, Any]:
    """How to compute X-Signature with this secret (docs/partner-api.md §3), on ``GET /api/v1/me``."""
    stamp = int(time.time()) if t is None else t
    v1 = sign_request(secret, stamp, "GET", EXAMPLE_PATH, b"")
    return {"t": stamp, "method": "GET", "path": EXAMPLE_PATH, "v1": v1, "header": f"t={stamp},v1={v1}"}


def credentials_view(model_admin: admin.ModelAdmin) -> Page:
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        _allowed(model_admin, request)
        partner = get_object_or_404(Partner, pk=pk)
        here = reverse("admin:partners_partner_credentials", args=[pk])
        if request.method == "POST":
            form = CredentialsForm(request.POST)
            expected = request.session.pop(NONCE_KEY, None)
            if not form.is_valid() or not expected or form.cleaned_data["nonce"] != expected:
                messages.warning(
                    request, "This form was sent already: what it made was shown once, and is not shown again."
                )
                return HttpResponseRedirect(here)
            return _credentials_post(model_admin, request, partner, form.cleaned_data["mode"], request.POST.get("op"))
        nonce = secrets.token_urlsafe(16)
        request.session[NONCE_KEY] = nonce
        context = {
            **_context(model_admin, request, partner, f"API credentials of {partner.name}"),
            "form": CredentialsForm(initial={"nonce": nonce}),
            "keys": ApiCredential.objects.filter(partner=partner).order_by("-created_at"),
            "active_secrets": {
                mode: signing_secret_list_active(partner=partner, mode=mode).count() for mode in Mode.values
            },
        }
        return TemplateResponse(request, "partners/credentials.html", context)

    return view


def _credentials_post(
    model_admin: admin.ModelAdmin, request: HttpRequest, partner: Partner, mode: str, op: str | None
) -> HttpResponse:
    here = reverse("admin:partners_partner_credentials", args=[partner.pk])
    if op in ("rotate", "finish") and mode == Mode.LIVE:
        return _four_eyes("rotate_secret", partner.code, mode=mode, step=op)
    try:
        if op == "finish":
            revoked = signing_secret_revoke_previous(partner=partner, mode=mode)
            model_admin.log_change(request, partner, f"{mode} rotation finished: {revoked} secret(s) revoked")
            messages.success(request, f"{revoked} previous {mode} secret(s) revoked.")
            return HttpResponseRedirect(here)
        api_key: str | None
        secret: str | None
        if op == "rotate":
            api_key, secret = None, signing_secret_rotate(partner=partner, mode=mode).secret
            model_admin.log_change(request, partner, f"{mode} signing secret rotated")
        else:
            issued = partner_credentials_issue(
                partner=partner, mode=mode, label=f"console:{request.user.get_username()}"
            )
            api_key, secret = issued.key.api_key, issued.secret.secret if issued.secret else None
            model_admin.log_change(request, partner, f"{mode} API key {issued.key.credential.key_prefix}… issued")
    except GatewayError as exc:
        messages.error(request, exc.detail)
        return HttpResponseRedirect(here)
    context = {
        **_context(model_admin, request, partner, f"New {mode} credentials of {partner.name}"),
        "mode": mode,
        "api_key": api_key,
        "signing_secret": secret,
        "example": signing_example(secret) if secret else None,
        "back": here,
    }
    response = TemplateResponse(request, "partners/credentials_issued.html", context)
    response["Cache-Control"] = "no-store"  # shown once: never kept by a browser or proxy cache
    return response


def _minor(raw: str, currency: str) -> int | None:
    return None if not raw.strip() else Money.parse(raw.strip(), currency).minor


def limits_view(model_admin: admin.ModelAdmin) -> Page:
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        _allowed(model_admin, request)
        partner = get_object_or_404(Partner, pk=pk)
        form = LimitForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if data["mode"] == Mode.LIVE:
                fields = {
                    name: str(data[name]) for name in ("mode", "rail", "currency", "max_per_transaction", "max_per_day")
                }
                return _four_eyes("partner_limits", partner.code, **fields)
            try:
                currency = data["currency"].upper()
                partner_limit_set(
                    partner=partner,
                    mode=data["mode"],
                    rail=data["rail"],
                    currency=currency,
                    max_per_transaction_minor=_minor(data["max_per_transaction"], currency),
                    max_per_day_minor=_minor(data["max_per_day"], currency),
                )
            except GatewayError as exc:
                form.add_error(None, exc.detail)
            else:
                model_admin.log_change(request, partner, f"test {data['rail']} limits set")
                messages.success(request, f"Test-mode {data['rail']} limits saved.")
                return HttpResponseRedirect(reverse("admin:partners_partner_limits", args=[pk]))
        context = {
            **_context(model_admin, request, partner, f"Limits of {partner.name}"),
            "form": form,
            "limits": {mode: partner_limits_describe(partner=partner, mode=mode) for mode in Mode.values},
        }
        return TemplateResponse(request, "partners/limits.html", context)

    return view
