"""What the figures share: Django set-up, a bench partner, the gateway under gunicorn, signed
requests rendered as bytes for the load generator, fresh processes for memory figures."""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.loadgen import RequestFactory, http_request

CASH_INS = "/api/v1/mobile-money/cash-ins"
# the web tier of every HTTP figure: what `make run` and the systemd unit start on this machine
WEB_WORKERS = 2
WEB_THREADS = 4


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


@dataclass(frozen=True)
class BenchPartner:
    partner: Any
    api_key: str
    secret: str


def bench_partner(name: str, *, scopes: list[str] | None = None) -> BenchPartner:
    """A test-mode partner with every scope and no practical rate limit (the limit is still checked)."""
    from partners.models import ALL_SCOPES
    from partners.services import partner_create

    created = partner_create(
        name=f"{name} {time.time_ns()}",
        mode="test",
        scopes=scopes or ALL_SCOPES,
        rate_limit_per_minute=10**8,
    )
    return BenchPartner(created.partner, created.api_key, created.signing_secret)


# the sandbox's secrets of every bench run, chosen here so that P7 can sign Wave's callbacks
SANDBOX_SECRETS = {"wave_webhook_secret": "bench-" + os.urandom(12).hex()}
WAVE_WEBHOOK_SECRET = "wave_sn_WHS_" + SANDBOX_SECRETS["wave_webhook_secret"]  # as mobilemoney/demo.py builds it


def seed(base_url: str) -> None:
    """The sandbox providers' connections (Wave, Orange Money, Niirpay, banks) pointed at ``base_url``."""
    from partners.demo import DemoContext, run_seeders

    run_seeders(DemoContext(base_url=base_url, known_secrets=dict(SANDBOX_SECRETS)))


@contextmanager
def gateway(*, app: str = "bench.wsgi", env: dict[str, str] | None = None) -> Iterator[tuple[str, Any]]:
    """The gateway under gunicorn (gthread, WEB_WORKERS x WEB_THREADS), sandbox seeded, warm."""
    from tests.processes import gunicorn

    # `make bench` runs under DJANGO_ENV=test (its own database): the web tier gets production's
    # per-process caches back (core/short_cache.py; the suite's default is 0)
    settings = {"WEB_THREADS": str(WEB_THREADS), "SANDBOX_LATENCY_MS": "0", "LOG_LEVEL": "WARNING",
                "PARTNER_AUTH_CACHE_SECONDS": "2", "CONFIGURATION_CACHE_SECONDS": "2", **(env or {})}  # fmt: skip
    with gunicorn(workers=WEB_WORKERS, env=settings, app=app) as (base, process):
        seed(base)
        yield base, process


def checkpoint() -> None:
    """A PostgreSQL CHECKPOINT: what earlier work left dirty is written now, not during the next
    measure, and the next WAL-triggered checkpoint is as far away for every figure (after one,
    the first change to each page writes the whole page to the WAL: each measure starts there)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def host_of(base_url: str) -> str:
    return base_url.split("://", 1)[1].split("/", 1)[0]


def signed_post(base_url: str, who: BenchPartner, path: str, body_of: Callable[[int], dict[str, Any]],
                key_prefix: str) -> RequestFactory:  # fmt: skip
    """Signed, idempotent POSTs of ``body_of(i)`` (a fresh t and key each: no replay, no idempotent replay)."""
    from core.signing import signature_header

    host = host_of(base_url)

    def factory(i: int) -> bytes:
        body = json.dumps(body_of(i)).encode()
        headers = {
            "Authorization": f"Bearer {who.api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"{key_prefix}-{i}",
            "X-Signature": signature_header(who.secret, "POST", path, body),
        }
        return http_request("POST", path, headers, body, host=host)

    return factory


def cash_in_factory(base_url: str, who: BenchPartner, tag: str) -> RequestFactory:
    run = f"{tag}-{time.time_ns()}"

    def body(i: int) -> dict[str, Any]:
        return {"provider": "wave", "msisdn": "+221770000001", "amount": "1500", "currency": "XOF",
                "client_reference": f"{run}-{i}"}  # fmt: skip

    return signed_post(base_url, who, CASH_INS, body, run)


def naive_factory(base_url: str, tag: str) -> RequestFactory:
    """The P1 reference: the same body to bench/naive.py's endpoint (validation + 2 INSERTs)."""
    host, run = host_of(base_url), f"{tag}-{time.time_ns()}"

    def factory(i: int) -> bytes:
        body = json.dumps({"provider": "wave", "msisdn": "+221770000001", "amount": "1500", "currency": "XOF",
                           "client_reference": f"{run}-{i}"}).encode()  # fmt: skip
        return http_request("POST", "/bench/naive-cash-ins", {"Content-Type": "application/json"}, body, host=host)

    return factory


def get_factory(base_url: str, path: str, who: BenchPartner | None = None) -> RequestFactory:
    headers = {"Authorization": f"Bearer {who.api_key}"} if who else {}
    request = http_request("GET", path, headers, host=host_of(base_url))
    return lambda i: request


def in_fresh_process(target: Callable[..., None], *args: Any, timeout: float = 900) -> dict[str, Any]:
    """Run ``target(results_queue, *args)`` in a spawned process (its own peak RSS) and return what it put."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(results, *args))
    process.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = results.get(timeout=1)
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"{target.__name__} died (exit code {process.exitcode})") from None
            continue
        process.join(timeout=60)
        return dict(result)
    process.kill()
    raise TimeoutError(f"{target.__name__} took more than {timeout} s")


def process_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's master and workers), in MB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids += [int(child) for child in children.read().split()]
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return total / 1024
