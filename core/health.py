"""Health endpoints (docs/architecture.md §8): liveness answers if the process runs; readiness checks
every dependency the gateway cannot work without and names each one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.metrics import health_checks_total

CHECK_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


# Checks of other apps' dependencies (Kafka belongs to the events app), registered from their
# AppConfig.ready so core imports no app: name -> (check, is it enabled now?).
_extra_checks: dict[str, tuple[Callable[[], None], Callable[[], bool]]] = {}


def register_readiness_check(name: str, check: Callable[[], None], *, enabled: Callable[[], bool]) -> None:
    _extra_checks[name] = (check, enabled)


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": check_database, "redis": check_redis}
    for name, (check, enabled) in _extra_checks.items():
        if enabled():
            checks[name] = check
    return checks


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "pid": os.getpid(), "release": settings.RELEASE.as_dict()})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in readiness_checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure, whatever it is
            healthy = False
            results[name] = {"status": "fail", "error": type(exc).__name__}
            health_checks_total.labels(name, "fail").inc()
        else:
            results[name] = {"status": "ok"}
            health_checks_total.labels(name, "ok").inc()
        results[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    # the release lets a deploy wait for the NEW code to answer, not the one it replaces
    body = {"status": "ok" if healthy else "fail", "release": settings.RELEASE.as_dict(), "checks": results}
    return JsonResponse(body, status=200 if healthy else 503)
