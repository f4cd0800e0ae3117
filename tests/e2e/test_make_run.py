"""`make run` from this checkout: the gateway is ready within 60 s, docs are staff-only,
and Ctrl-C stops web, worker and beat together."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.processes import ROOT, free_port

READY_WITHIN_SECONDS = 60


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fetch(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> tuple[int, dict, bytes]:
    try:
        with opener.open(url, data=data, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def make_run():  # type: ignore[no-untyped-def]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PORT"] = str(port)
    log = open(ROOT / "reports" / "make-run.log", "wb") if (ROOT / "reports").is_dir() else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    yield f"http://127.0.0.1:{port}", process
    # honcho gives each child its own process group: stop every descendant, not just make's group
    for line in children_of(process.pid):
        pid = int(line.split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGTERM)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    if log is not subprocess.DEVNULL:
        log.close()  # type: ignore[union-attr]


def children_of(root: int) -> list[str]:
    """Every live descendant of ``root`` (honcho puts its children in their own groups)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,stat=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 3) for line in out.splitlines() if line.strip()]
    children: dict[int, list[tuple[int, str]]] = {}
    for pid, ppid, stat, args in (row for row in rows if len(row) == 4):
        if not stat.startswith("Z"):
            children.setdefault(int(ppid), []).append((int(pid), args))
    found, todo = [], [root]
    while todo:
        for pid, args in children.get(todo.pop(), []):
            found.append(f"{pid} {args}")
            todo.append(pid)
    return found


@pytest.mark.slow
def test_make_run_serves_ready_and_protects_docs(make_run) -> None:  # type: ignore[no-untyped-def]
    base, process = make_run
    opener = urllib.request.build_opener(NoRedirect)
    started = time.monotonic()
    status = 0
    while time.monotonic() - started < READY_WITHIN_SECONDS:
        assert process.poll() is None, "make run exited early (see reports/make-run.log)"
        try:
            status, _, _ = fetch(opener, base + "/health/ready")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            status = 0
        if status == 200:
            break
        time.sleep(0.5)
    assert status == 200, f"/health/ready not 200 within {READY_WITHIN_SECONDS}s"

    # web, worker and beat all run
    processes = "\n".join(children_of(process.pid))
    assert "gunicorn" in processes and "celery -A config worker" in processes and "celery -A config beat" in processes

    # anonymous: sent to the login page
    status, headers, _ = fetch(opener, base + "/api/docs/")
    assert status == 302 and "/admin/login/" in headers["Location"]

    # staff from .demo/credentials.json: 200
    creds = json.loads((ROOT / ".demo" / "credentials.json").read_text())["staff"]
    jar = http.cookiejar.CookieJar()
    staff = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    _, _, page = fetch(staff, base + "/admin/login/?next=/api/docs/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    form = urllib.parse.urlencode(
        {
            "username": creds["username"],
            "password": creds["password"],
            "csrfmiddlewaretoken": token.group(1).decode(),
            "next": "/api/docs/",
        }
    ).encode()
    status, headers, _ = fetch(staff, base + "/admin/login/?next=/api/docs/", data=form)
    assert status == 302, "staff login failed"
    status, _, body = fetch(staff, base + "/api/docs/")
    assert status == 200 and b"swagger" in body.lower()

    # Ctrl-C stops them all
    honcho = next(int(line.split()[0]) for line in children_of(process.pid) if "honcho" in line)
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(name in " ".join(children_of(honcho)) for name in ("gunicorn", "celery")):
        assert time.monotonic() < deadline, children_of(honcho)
        time.sleep(0.5)
