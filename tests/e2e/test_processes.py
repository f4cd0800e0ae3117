"""Foundation behaviour that only shows across real processes: gunicorn workers and Celery."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from tests.processes import celery_worker, gunicorn, wait_until


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def live_requests_counted(metrics_text: str) -> float:
    total = 0.0
    pattern = re.compile(r"^django_http_requests_total_by_view_transport_method_total\{([^}]*)\} ([0-9.e+]+)$", re.M)
    for labels, value in pattern.findall(metrics_text):
        if 'view="health-live"' in labels:
            total += float(value)
    return total


@pytest.mark.django_db(transaction=True)
def test_metrics_are_summed_across_two_gunicorn_workers(tmp_path: Path) -> None:
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    with gunicorn(workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(multiproc), "WEB_THREADS": "1"}) as (base, _):
        baseline = live_requests_counted(get(base + "/metrics")[2].decode())
        pids: set[int] = set()
        sent = 0
        # Fresh connections until both workers have answered (the kernel spreads accepts).
        while sent < 400 and (len(pids) < 2 or sent < 60):
            status, _, body = get(base + "/health/live", {"Connection": "close"})
            assert status == 200
            pids.add(json.loads(body)["pid"])
            sent += 1
        assert len(pids) == 2, "both workers should have served requests"
        counted = live_requests_counted(get(base + "/metrics")[2].decode())
        # each scrape of /metrics hits one worker, yet sees the sum of both
        assert counted - baseline == sent


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.e2e.urls_enqueue")
def test_request_id_reaches_the_log_line_of_the_task_it_enqueues(tmp_path: Path, client: Client) -> None:
    log = tmp_path / "worker.log"
    with celery_worker(log, queues="maintenance", concurrency=1):
        response = client.get("/t/enqueue", HTTP_X_REQUEST_ID="req-celery-trace-42")
        assert response.status_code == 200
        assert response["X-Request-ID"] == "req-celery-trace-42"

        def task_logged() -> bool:
            return any(
                line.get("message", "") == "ping received from-request"
                and line.get("request_id") == "req-celery-trace-42"
                and line.get("logger") == "core.tasks"
                for line in _json_lines(log)
            )

        wait_until(task_logged, timeout=30, message=log.read_text()[-2000:])


def _json_lines(path: Path) -> list[dict]:
    out = []
    for raw in path.read_text(errors="replace").splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
    return out
