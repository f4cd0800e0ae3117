"""Real processes for tests: gunicorn and Celery workers started as subprocesses.

They run against the test database of the current pytest-django session, so rows written by
a test (committed, with ``transactional_db`` or ``live_server``) are visible to them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

from django.conf import settings

from tests.log_capture import register_subprocess_log, subprocess_log

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def process_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last!r}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def gunicorn(
    *, workers: int = 2, env: Mapping[str, str] | None = None, log: Path | None = None, app: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log = log or subprocess_log("gunicorn")  # always kept: the log hygiene scan reads it
    register_subprocess_log(log)
    out = open(log, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--workers", str(workers), *([app] if app else [])],
        cwd=ROOT,
        env=process_env({"PORT": str(port), **(env or {})}),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/health/live")
        yield base, process
    finally:
        stop(process)
        out.close()


def start_celery_worker(
    log: Path,
    *,
    queues: str = "payments,bulk,callbacks,notifications,outbox,maintenance",
    concurrency: int = 2,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    register_subprocess_log(log)  # scanned by the log hygiene check
    out = open(log, "ab")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "-Q",
            queues,
            "--without-gossip",
            "--without-mingle",
            "--pool=prefork",
        ],
        cwd=ROOT,
        env=process_env(env),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"ready." in log.read_bytes():
            return process
        if process.poll() is not None:
            raise RuntimeError("celery worker exited early:\n" + log.read_text()[-3000:])
        time.sleep(0.2)
    stop(process)
    raise TimeoutError("celery worker did not become ready:\n" + log.read_text()[-3000:])


@contextmanager
def celery_worker(log: Path, **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    process = start_celery_worker(log, **kwargs)  # type: ignore[arg-type]
    try:
        yield process
    finally:
        stop(process)


def wait_until(predicate: object, timeout: float = 30.0, interval: float = 0.2, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise TimeoutError(message or "condition not met in time")
