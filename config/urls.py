"""URL wiring: the partner API, provider callbacks, admin, docs, health, metrics, sandbox."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core import health
from ops.views import metrics

api_v1 = [
    path("", include("ledger.urls")),
    path("bills/", include("payments.urls")),
    path("mobile-money/", include("mobilemoney.urls")),
    path("banking/", include("banking.urls")),
    path("notifications/", include("notifications.urls")),
    path("events/", include("events.urls")),
    path("test-helpers/", include("mobilemoney.test_helper_urls")),
    path("", include("reporting.urls")),  # statements (docs/reports.md §2)
]

callbacks = [
    path("", include("mobilemoney.callback_urls")),
    path("", include("banking.callback_urls")),
    path("", include("mobilemoney.provider_callback_urls")),  # /callbacks/<provider code>: last
]

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics, name="prometheus-django-metrics"),
    # the console at ADMIN_URL; its second-factor pages beside it (docs/staff-security.md §2)
    path(settings.ADMIN_URL, include("backoffice.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # the console's language switch (set_language)
    path("api/", include("core.api.docs")),
    path("api/v1/", include(api_v1)),
    path("callbacks/", include(callbacks)),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
