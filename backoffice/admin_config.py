"""The admin app, with the gateway's site as its default site (``backoffice.site.GatewaySite``)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class GatewayAdminConfig(AdminConfig):
    """``django.contrib.admin`` whose ``admin.site`` is the gateway's console."""

    default_site = "backoffice.site.GatewaySite"
