"""The provider simulators, each under /sandbox/<provider>/ (only while SANDBOX_ENABLED).

The simulators of sandbox/simulators.py that are not listed here (every ``sandbox/<name>/
simulator.py``) are mounted at their own prefix: a new simulator needs no line here.
"""

from django.urls import include, path

from sandbox.simulators import discovered

urlpatterns = [
    path("wave/", include("sandbox.wave.urls")),
    path("orange-money/", include("sandbox.orange_money.urls")),
    path("niirpay/", include("sandbox.niirpay.urls")),
    path("banks/", include("sandbox.banks.urls")),
    path("fcm/", include("sandbox.fcm.urls")),
    *(path(simulator.prefix, include(simulator.urls)) for simulator in discovered()),
]
