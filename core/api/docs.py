"""The OpenAPI schema, Swagger UI and Redoc, for logged-in staff only (docs/architecture.md §9).

Anonymous visitors are sent to the admin login; the UIs are served from our own static
files (drf-spectacular-sidecar), so a browser on the bank's network asks no outside host.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", staff_member_required(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", staff_member_required(SpectacularSwaggerView.as_view(url_name="schema")), name="swagger-ui"),
    path("redoc/", staff_member_required(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
]
