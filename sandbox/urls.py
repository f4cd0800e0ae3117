"""The provider simulators, each under /sandbox/<provider>/ (only while SANDBOX_ENABLED)."""

from django.urls import include, path

urlpatterns = [
    path("wave/", include("sandbox.wave.urls")),
    path("orange-money/", include("sandbox.orange_money.urls")),
    path("niirpay/", include("sandbox.niirpay.urls")),
    path("banks/", include("sandbox.banks.urls")),
    path("fcm/", include("sandbox.fcm.urls")),
]
