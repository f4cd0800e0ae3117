"""The OpenAPI schema, Swagger UI and Redoc, for logged-in staff only (docs/architecture.md §9).
Partners read the same schema in the repository, docs/openapi.yaml (docs/partner-api.md).

Anonymous visitors are sent to the admin login. A browser on the bank's network asks no outside
host for these pages:
- the UIs come from our own static files (drf-spectacular-sidecar), and the Redoc bundle is
  served by ``redoc_bundle`` with the one outside resource it names (Redocly's logo, on a CDN)
  replaced by a local image;
- the pages carry a Content-Security-Policy that lets the browser fetch from this origin only
  (and ``data:``/``blob:`` URLs the bundles build themselves), whatever a future bundle names.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# A neutral mark in place of Redocly's logo (the sidebar's "API docs by Redocly" link keeps its text).
LOCAL_LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16'%3E"
    "%3Crect width='16' height='16' rx='3' fill='%2332329f'/%3E%3C/svg%3E"
)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the UIs' init script is inline
        "style-src 'self' 'unsafe-inline'",  # Redoc and Swagger UI inject their styles
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


@cache
def redoc_bundle_text() -> str:
    found = finders.find(REDOC_BUNDLE)
    assert isinstance(found, str), REDOC_BUNDLE
    text = Path(found).read_text(encoding="utf-8")
    return text.replace(REDOC_CDN_LOGO, LOCAL_LOGO)


def redoc_bundle(request: HttpRequest) -> HttpResponse:
    """The sidecar's Redoc bundle with a local logo instead of the CDN's."""
    response = HttpResponse(redoc_bundle_text(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "private, max-age=3600"
    return response


class RedocView(SpectacularRedocView):
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().get(request, *args, **kwargs)
        response.data["redoc_standalone"] = reverse("redoc-bundle")
        return response


def same_origin_only(view: Any) -> Any:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    return wrapped


urlpatterns = [
    path("schema/", staff_member_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        staff_member_required(same_origin_only(SpectacularSwaggerView.as_view(url_name="schema"))),
        name="swagger-ui",
    ),
    path("redoc/", staff_member_required(same_origin_only(RedocView.as_view(url_name="schema"))), name="redoc"),
    path("redoc/redoc.standalone.js", staff_member_required(redoc_bundle), name="redoc-bundle"),
]
