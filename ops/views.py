"""``/metrics``: the Prometheus exposition, served only to the monitoring network outside development.

The body is django-prometheus's and ours (core/metrics.py), summed across processes through
``PROMETHEUS_MULTIPROC_DIR`` when it is set, followed by the families read at scrape time
(ops/collectors.py).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from ops.collectors import ops_registry

# A request relayed by a reverse proxy arrives from the proxy's (often loopback) address; the
# address says nothing about the real client, so relayed requests are never trusted.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def metrics_access_allowed(request: HttpRequest) -> bool:
    if settings.METRICS_OPEN:
        return True
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def process_metrics() -> bytes:
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_access_allowed(request):
        refusal = b"metrics are served to the monitoring network only\n"
        return HttpResponse(refusal, status=403, content_type="text/plain")
    return HttpResponse(process_metrics() + generate_latest(ops_registry), content_type=CONTENT_TYPE_LATEST)
