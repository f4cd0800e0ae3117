"""`make run` as a developer meets it, from fresh clones of the committed HEAD (issue 16).

The first clone's path is 120 characters long (nothing may depend on a short path, nor on
`ps` output cut at the terminal width); a second clone runs beside it on another port. Each
gets its own database and Redis database (.demo/checkout.env), so neither resets the other's
demo. Under the demo's own settings a cash-in to an MSISDN ending 9902 goes through `unknown`
for Wave and Orange Money; beat's routine ticks stay out of the INFO log; Ctrl-C ends cleanly.

The clones share this checkout's virtualenv (VENV, reached through the clone's own long path, so
command lines are as long as from a venv inside the clone): the code run is the clone's.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from clients.python.addon_partner_client import AddonPartnerClient
from tests.processes import ROOT, free_port

READY_WITHIN_SECONDS = 150  # a fresh clone: services, a new database migrated, the demo seeded
LONG_PATH = 120
CLAIM = "addon-partner:checkout-redis-db:"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fetch(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> tuple[int, dict, bytes]:
    try:
        with opener.open(url, data=data, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def command_line(pid: int) -> str:
    """The whole command line of a process (never cut at a terminal width, unlike `ps`)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def children_of(root: int) -> list[str]:
    """Every live descendant of ``root`` as "<pid> <command line>" (honcho puts its children in
    their own process groups), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            children.setdefault(int(ppid), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(f"{pid} {command_line(pid)}")
            todo.append(pid)
    return found


def test_children_of_sees_whole_command_lines_whatever_the_terminal(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")  # as under `make test` in an 80-column terminal
    long_dir = tmp_path / ("d" * max(1, LONG_PATH - len(str(tmp_path)) - 1))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(long_dir), "celery -A config"])
    try:
        assert any(line.endswith(f"{long_dir} celery -A config") for line in children_of(os.getpid()))
    finally:
        child.kill()
        child.wait()


def clean_env() -> dict[str, str]:
    """A developer's shell: none of this test session's database, Redis or Django settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@dataclass
class Checkout:
    path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.path.parent / f"{self.path.name[:20]}-make-run.log"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def credentials(self) -> dict[str, Any]:
        return dict(json.loads((self.path / ".demo" / "credentials.json").read_text()))

    def settings_file(self) -> dict[str, str]:
        lines = (self.path / ".demo" / "checkout.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))

    def start(self) -> None:
        self.port = free_port()
        env = clean_env()
        venv = f"{self.path}/{os.path.relpath(sys.prefix, self.path)}"  # this venv, through the long path
        self.process = subprocess.Popen(
            ["make", "run", f"PORT={self.port}", f"VENV={venv}"],
            cwd=self.path,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        assert self.process is not None
        opener = urllib.request.build_opener(NoRedirect)
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "make run exited early:\n" + self.tail()
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
                if fetch(opener, self.base + "/health/ready")[0] == 200:
                    return
            time.sleep(0.5)
        raise AssertionError(f"/health/ready not 200 within {READY_WITHIN_SECONDS}s:\n" + self.tail())

    def client(self) -> AddonPartnerClient:
        partner = self.credentials()["partner"]
        return AddonPartnerClient(self.base, partner["api_key"], partner["signing_secret"], timeout=15)

    def staff_login(self, next_url: str = "/api/docs/") -> urllib.request.OpenerDirector | None:
        creds = self.credentials()["staff"]
        staff = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
        _, _, page = fetch(staff, f"{self.base}/admin/login/?next={next_url}")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token
        form = {
            "username": creds["username"],
            "password": creds["password"],
            "csrfmiddlewaretoken": token.group(1).decode(),
            "next": next_url,
        }
        status, _, _ = fetch(staff, f"{self.base}/admin/login/?next={next_url}", urllib.parse.urlencode(form).encode())
        return staff if status == 302 else None

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to make's process group, as a terminal does; make's exit status."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """Whatever still runs: SIGTERM to every process group, SIGKILL after 20 s."""
        if self.process is None:
            return
        pids = [int(line.split()[0]) for line in children_of(self.process.pid)]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in [self.process.pid, *pids]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(os.getpgid(pid), sig)
            deadline = time.monotonic() + 20
            while self.process.poll() is None or any(Path(f"/proc/{pid}").exists() for pid in pids):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            else:
                return


def clone(path: Path) -> Checkout:
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(path)], check=True)
    return Checkout(path)


@pytest.fixture
def checkouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Checkout, Checkout]]:
    base = tmp_path_factory.mktemp("checkouts")
    first = base / ("a-" + "x" * (LONG_PATH - len(str(base)) - 3))
    assert len(str(first)) == LONG_PATH
    pair = (clone(first), clone(base / "b"))
    yield pair
    for checkout in pair:
        checkout.kill()
        if (checkout.path / ".demo" / "checkout.env").exists():  # drop its database, free its Redis database
            redis_url = checkout.settings_file()["REDIS_URL"]
            reset = ["scripts/reset_demo.sh"]
            subprocess.run(reset, cwd=checkout.path, env=clean_env(), capture_output=True, check=False)
            subprocess.run(
                ["redis-cli", "-n", "0", "del", CLAIM + redis_url.rsplit("/", 1)[1]], capture_output=True, check=False
            )
        shutil.rmtree(checkout.path, ignore_errors=True)


def cash_in_through_unknown(client: AddonPartnerClient, provider: str) -> list[str]:
    """A cash-in to an MSISDN ending 9902; the statuses its events went through, once final."""
    body = {
        "provider": provider,
        "msisdn": "+221771239902",
        "amount": "1500",
        "currency": "XOF",
        "client_reference": f"e2e-9902-{provider}-{time.time_ns()}",
    }
    status, _, created = client.post(
        "/api/v1/mobile-money/cash-ins", json=body, idempotency_key=body["client_reference"]
    )
    assert status == 202, created
    txn = created["id"] if str(created.get("id", "")).startswith("txn_") else created["transaction"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, _, shown = client.get(f"/api/v1/transactions/{txn}")
        assert status == 200, shown
        if shown["status"] in ("succeeded", "failed"):
            return [event["to_status"] for event in shown["events"]]
        time.sleep(1)
    raise AssertionError(f"{provider} 9902 cash-in not final within 60 s: {shown}")


@pytest.mark.slow
def test_two_checkouts_run_side_by_side_and_keep_the_sandbox_promises(checkouts) -> None:  # type: ignore[no-untyped-def]
    first, second = checkouts
    first.start()
    first.wait_ready()
    ready_at = time.monotonic()

    # web, worker and beat all run, found by their whole command lines (a 120-character path)
    processes = "\n".join(children_of(first.process.pid))  # type: ignore[union-attr]
    assert str(first.path) in processes
    assert "gunicorn" in processes and "celery -A config worker" in processes and "celery -A config beat" in processes

    # docs: anonymous → the login page; the staff user of .demo/credentials.json → 200
    status, headers, _ = fetch(urllib.request.build_opener(NoRedirect), first.base + "/api/docs/")
    assert status == 302 and "/admin/login/" in headers["Location"]
    staff = first.staff_login()
    assert staff is not None, "staff login failed"
    status, _, page = fetch(staff, first.base + "/api/docs/")
    assert status == 200 and b"swagger" in page.lower()

    # 9902 under the demo's own settings: the answer is lost, the poller finds it paid
    client = first.client()
    for provider in ("wave", "orange_money"):
        statuses = cash_in_through_unknown(client, provider)
        assert statuses[-3:] == ["processing", "unknown", "succeeded"], (provider, statuses)

    # a second checkout on another port: its own database and Redis database, its own demo
    second.start()
    second.wait_ready()
    assert first.settings_file() != second.settings_file()
    for checkout in (first, second):
        status, _, me = checkout.client().get("/api/v1/me")
        assert status == 200, (checkout.path.name, me)  # neither's key or secret was rotated
        assert checkout.staff_login() is not None, checkout.path.name  # neither's password was reset
    assert first.credentials()["partner"]["partner_id"] != second.credentials()["partner"]["partner_id"]

    # beat's routine ticks are not INFO lines: over ≥ 20 s of a dozen schedules every 2-30 s (three
    # INFO lines a tick before), beat says nothing after its banner, and the worker logs a periodic
    # task only when it did something
    while time.monotonic() - ready_at < 20:
        time.sleep(1)
    log = first.log.read_text(errors="replace").splitlines()
    banner_end = next(i for i, line in enumerate(log) if "beat: Starting" in line)
    beat_after_start = [line for line in log[banner_end + 1 :] if re.search(r"\bbeat\.1 +\|", line)]
    assert len(beat_after_start) <= 3, beat_after_start
    periodic = "|".join(re.escape(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values())
    routine = re.compile(
        rf"Task ({periodic})\[[^]]+\] (received|succeeded in [0-9.]+s: (None|0|\{{('\w+': 0(, )?)*\}})(?=[\"\s]|$))"
    )
    assert not [line for line in log if routine.search(line)]
    assert not [line for line in log if "Sending due task" in line or ("purged" in line and '"deleted": 0' in line)]

    # Ctrl-C: everything stops, make ends without an error
    for checkout in (first, second):
        honcho = [int(line.split()[0]) for line in children_of(checkout.process.pid) if "honcho" in line]  # type: ignore[union-attr]
        status = checkout.interrupt()
        assert status in (0, 130, -signal.SIGINT), (status, checkout.tail())
        assert "make: ***" not in checkout.tail() and checkout.tail().rstrip().endswith("stopped"), checkout.tail()
        deadline = time.monotonic() + 20
        while any(children_of(pid) for pid in honcho) or any(Path(f"/proc/{pid}").exists() for pid in honcho):
            assert time.monotonic() < deadline, [children_of(pid) for pid in honcho]
            time.sleep(0.5)
