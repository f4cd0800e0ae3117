"""URL wiring: the partner API, provider callbacks, admin, docs, health and metrics."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core import health

api_v1: list = []

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("", include("django_prometheus.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("core.api.docs")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
