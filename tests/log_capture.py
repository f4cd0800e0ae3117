"""Log hygiene of the whole suite (issue 17, item 5): every log line the suite produces is kept
and scanned for secrets and personal data; the run fails if one holds any.

What is captured, per pytest process (each xdist worker, or the only process):
- in-process logs: a handler on the root logger, formatted and filtered like the console
  handler of ``settings.LOGGING`` (what production writes), into ``<dir>/<worker>-inprocess.log``;
- the real processes' output (gunicorn, Celery workers started by tests/processes.py): their log
  files are registered with ``subprocess_log`` and scanned where they are.

What is looked for (``scan``): the secret values the suite created, collected as they are made
(API keys, signing secrets and provider credentials from the ``partners.services`` functions
that generate or store them, the Fernet keys of the settings), and patterns: a full Senegalese
MSISDN, an API key or signing secret, a bearer token, a PIN given as a value, a Fernet key.

Where it is checked: at the end of the session, by the process that owns the run (the xdist
controller scans every worker's directory): findings print a clear report and make pytest exit
non-zero. The directory is a temporary one, removed after a clean scan.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ENV_DIR = "ADDON_TEST_LOG_DIR"  # where the session's logs go (set by the controller for its workers)
SECRETS_SUFFIX = ".secrets"
MIN_SECRET_LENGTH = 8

PATTERNS: dict[str, re.Pattern[str]] = {
    "a full MSISDN": re.compile(r"(?<![\w*+])(?:\+|00)?221 ?7[05678]\d{7}(?!\d)|(?<![\w*+])7[05678]\d{7}(?![\w])"),
    "an API key": re.compile(r"\bak_(?:test|live)_[A-Za-z0-9_-]{20,}"),
    "a signing secret": re.compile(r"\bss_(?:test|live)_[A-Za-z0-9_-]{20,}"),
    "a bearer token": re.compile(r"(?i)\bbearer\s+(?!\[REDACTED)[A-Za-z0-9._~+/-]{16,}"),
    "a PIN": re.compile(r"(?i)[\"']?\bpin[\"']?\s*[:=]\s*[\"']?\d{4,6}\b"),
    "a Fernet key": re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=(?![A-Za-z0-9=])"),
}


@dataclass
class Finding:
    path: Path
    number: int
    what: str
    line: str


@dataclass
class Capture:
    directory: Path
    worker: str
    secrets: set[str] = field(default_factory=set)
    handler: logging.Handler | None = None

    def remember(self, *values: object) -> None:
        fresh = {str(v) for v in values if isinstance(v, str | bytes) and len(str(v)) >= MIN_SECRET_LENGTH}
        if fresh - self.secrets:
            self.secrets |= fresh
            with open(self.directory / f"{self.worker}{SECRETS_SUFFIX}", "a", encoding="utf-8") as out:
                out.writelines(json.dumps(value) + "\n" for value in sorted(fresh))


_capture: Capture | None = None


def subprocess_log(name: str) -> Path:
    """A log file for a real process's output, scanned at the end of the session."""
    directory = _capture.directory if _capture else Path(tempfile.mkdtemp(prefix="addon-logs-"))
    handle, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=directory)
    os.close(handle)
    return Path(path)


def register_subprocess_log(path: Path) -> None:
    """Scan ``path`` (a log file a test chose) with the session's logs: linked into the directory."""
    if _capture is not None and Path(path).resolve().parent != _capture.directory.resolve():
        link = _capture.directory / f"linked-{len(list(_capture.directory.glob('linked-*')))}.log"
        try:
            link.symlink_to(Path(path).resolve())
        except OSError:
            return


# ---- secrets collected as they are generated --------------------------------------------------


def _recording(function: Callable[..., Any], collect: Callable[[Any, dict[str, Any]], Iterable[object]]) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if _capture is not None:
            _capture.remember(*collect(result, kwargs))
        return result

    wrapper.__wrapped_by_log_capture__ = True  # type: ignore[attr-defined]
    return wrapper


# Credential fields that hold a secret (a project id or a merchant code is a credential's name,
# not a secret: it may be logged, in a URL for one).
SECRET_FIELD_WORDS = ("secret", "key", "token", "password", "pin", "private", "signature")


def _credential_values(result: Any, kwargs: dict[str, Any]) -> Iterator[object]:
    def walk(value: Any, name: str = "") -> Iterator[object]:
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, str(key))
        elif isinstance(value, str) and any(word in name.lower() for word in SECRET_FIELD_WORDS):
            yield value

    yield from walk(kwargs.get("credentials") or {})


GENERATORS: dict[str, Callable[[Any, dict[str, Any]], Iterable[object]]] = {
    "partner_create": lambda result, _: (result.api_key, result.signing_secret),
    "api_credential_issue": lambda result, _: (result.api_key,),
    "signing_secret_rotate": lambda result, _: (result.secret,),
    "provider_connection_upsert": _credential_values,
}


def _record_generators() -> None:
    """Wrap the functions that make secrets (they still run unchanged: only their results are read)."""
    from django.conf import settings

    from partners import services

    for name, collect in GENERATORS.items():
        function = getattr(services, name)
        if not getattr(function, "__wrapped_by_log_capture__", False):
            setattr(services, name, _recording(function, collect))
    assert _capture is not None
    _capture.remember(*settings.FIELD_ENCRYPTION_KEYS, settings.SECRET_KEY)


# ---- scanning ----------------------------------------------------------------------------------


def secrets_of(directory: Path) -> set[str]:
    found: set[str] = set()
    for path in directory.glob(f"*{SECRETS_SUFFIX}"):
        found |= {json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line}
    return found


def scan(paths: Iterable[Path], secrets: set[str]) -> tuple[int, list[Finding]]:
    """(lines scanned, findings) over ``paths``: the secret values, then the patterns."""
    lines = 0
    findings: list[Finding] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            lines += 1
            what = next((f"a secret the suite created ({s[:6]}…)" for s in secrets if s in line), None)
            what = what or next((name for name, pattern in PATTERNS.items() if pattern.search(line)), None)
            if what:
                findings.append(Finding(path, number, what, line[:300]))
    return lines, findings


def log_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.log") if p.exists())


def _report(findings: list[Finding], secrets: set[str]) -> str:
    def hide(text: str) -> str:  # the report must not leak what it reports
        for secret in secrets:
            text = text.replace(secret, "<secret>")
        for pattern in PATTERNS.values():
            text = pattern.sub("<hidden>", text)
        return text

    shown = [f"  {f.path.name}:{f.number}: {f.what}: {hide(f.line)}" for f in findings[:20]]
    more = [f"  … and {len(findings) - 20} more"] if len(findings) > 20 else []
    return "\n".join(["LOG HYGIENE: log lines hold secrets or personal data (tests/log_capture.py):", *shown, *more])


# ---- pytest hooks --------------------------------------------------------------------------------


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    global _capture
    inherited = os.environ.get(ENV_DIR)
    directory = inherited or tempfile.mkdtemp(prefix="addon-test-logs-")
    os.environ[ENV_DIR] = directory  # the xdist workers (started after this) inherit it
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    _capture = Capture(Path(directory), worker)
    # the process that made the directory scans it (and removes it): the xdist controller, or the only process
    config.stash[_owner_key] = inherited is None and not _is_worker(config)


_owner_key = pytest.StashKey[bool]()
_result_key = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    assert _capture is not None
    root = logging.getLogger()
    console = next((h for h in root.handlers if type(h) is logging.StreamHandler), None)
    handler = logging.FileHandler(_capture.directory / f"{_capture.worker}-inprocess.log", encoding="utf-8")
    if console is not None:
        handler.setFormatter(console.formatter or logging.Formatter())
        for log_filter in console.filters:
            handler.addFilter(log_filter)
    handler.setLevel(logging.DEBUG)
    root.addHandler(handler)
    _capture.handler = handler
    _record_generators()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Put the handler back when logging was configured again since the last test: Celery's
    setup_logging runs ``dictConfig`` (core/task_context.py), which removes every root handler."""
    if _capture is not None and _capture.handler is not None:
        root = logging.getLogger()
        if _capture.handler not in root.handlers:
            root.addHandler(_capture.handler)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _capture is None:
        return
    if _capture.handler is not None:
        logging.getLogger().removeHandler(_capture.handler)
        _capture.handler.close()
    if not session.config.stash.get(_owner_key, False):
        return  # an xdist worker: the controller scans every worker's logs
    secrets = secrets_of(_capture.directory)
    files = log_files(_capture.directory)
    lines, findings = scan(files, secrets)
    if findings:
        session.config.stash[_result_key] = _report(findings, secrets)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    session.config.stash[_result_key] = (
        f"log hygiene: {lines} log lines in {len(files)} files scanned for {len(secrets)} secrets "
        f"and {len(PATTERNS)} patterns: clean"
    )
    shutil.rmtree(_capture.directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    result = config.stash.get(_result_key, None)
    if result:
        terminalreporter.write_line(result, red=result.startswith("LOG HYGIENE"), bold=True)
