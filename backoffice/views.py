"""The second factor's pages: enrol a TOTP device through a QR code, then give a code at sign-in.

A staff member who needs a code is sent here by ``backoffice.middleware`` (docs/staff-security.md
§2). The QR code is drawn inline as SVG by ``qrcode``: the page fetches nothing from another host,
and the key is also shown in text for an app that cannot scan.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.audit import audit_record

DEVICE_NAME = "console"
WRONG_CODE = _("This code is not right, or no longer: try the one your app shows now.")


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\d{6}$",
        label=_("Code from your authenticator app"),
        error_messages={"invalid": _("Enter the six digits your authenticator app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


@never_cache
@staff_member_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user_devices(user, confirmed=True):
        return HttpResponseRedirect(f"{reverse('backoffice:otp_verify')}?{request.GET.urlencode()}")
    device = user_devices(user, confirmed=False)[:1] or [
        TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    ]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device[0].verify_token(form.cleaned_data["token"]):
            device[0].confirmed = True
            device[0].save(update_fields=["confirmed"])
            otp_login(request, device[0])
            audit_record(actor=user, action="otp.enrolled", target=f"user:{user.get_username()}", request=request)
            return HttpResponseRedirect(next_url(request))
        audit_record(actor=user, action="otp.failed", target=f"user:{user.get_username()}", request=request)
        form.add_error("token", WRONG_CODE)
    context = {
        **admin.site.each_context(request),
        "title": _("Set up your second factor"),
        "form": form,
        "qr_svg": qr_svg(device[0].config_url),
        "key": b32encode(device[0].bin_key).decode(),
    }
    return render(request, "backoffice/otp_enrol.html", context)


@never_cache
@staff_member_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user_devices(user, confirmed=True):
        return HttpResponseRedirect(f"{reverse('backoffice:otp_enrol')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit_record(actor=user, action="otp.verified", target=f"user:{user.get_username()}", request=request)
            return HttpResponseRedirect(next_url(request))
        audit_record(actor=user, action="otp.failed", target=f"user:{user.get_username()}", request=request)
        form.add_error("token", WRONG_CODE)
    context = {**admin.site.each_context(request), "title": _("Second factor"), "form": form}
    return render(request, "backoffice/otp_verify.html", context)


def user_devices(user: Any, *, confirmed: bool) -> list[TOTPDevice]:
    return [device for device in devices_for_user(user, confirmed=confirmed) if isinstance(device, TOTPDevice)]


def next_url(request: HttpRequest) -> str:
    wanted = request.GET.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("admin:index")


def qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")
