"""The admin site of the gateway: its name and the bank's on every page, the dashboard first.

``backoffice.admin_config.GatewayAdminConfig`` makes this the default site, so every
``admin.site.register`` and ``@admin.register`` of the apps lands here and ``config/urls.py`` keeps
``admin.site.urls``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from backoffice.dashboard import WINDOWS, dashboard
from partners.models import Mode

GATEWAY_NAME = "Addon Partner"


def _site_header() -> str:
    return f"{GATEWAY_NAME} · {settings.BANK_NAME}"


def _site_title() -> str:
    return gettext("%(gateway)s console of %(bank)s") % {"gateway": GATEWAY_NAME, "bank": settings.BANK_NAME}


class GatewaySite(admin.AdminSite):
    """The bank's operations console (docs/architecture.md §1, back-office staff)."""

    site_header = lazy(_site_header, str)()
    site_title = lazy(_site_title, str)()
    index_title = gettext_lazy("Dashboard")
    # The gateway has no public page for staff to go back to: no "View site" link at all.
    site_url = None

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        mode = request.GET.get("mode")
        mode = mode if mode in Mode.values else Mode.LIVE
        context = {
            "dashboard": dashboard(mode=mode),
            "dashboard_mode": mode,
            "dashboard_modes": [(value, label) for value, label in Mode.choices],
            "dashboard_windows": [(window.name, window.title) for window in WINDOWS],
            **(extra_context or {}),
        }
        return super().index(request, context)
