"""The log hygiene check itself (tests/log_capture.py, issue 17, item 5): the capture is live and
filtered like production's console, the secrets the suite makes are collected, the scanner
finds each kind of leak, and a run whose logs leak fails with a clear message."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from partners.models import ALL_SCOPES, Mode
from partners.services import partner_create
from tests import log_capture
from tests.processes import ROOT

LEAKS = {
    "a full MSISDN": "cash-in to +221771234567 accepted",
    "an API key": "key ak_live_" + "x" * 43,
    "a signing secret": "secret ss_test_" + "y" * 43,
    "a bearer token": "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
    "a PIN": '{"pin": "4821"}',
    "a Fernet key": "key " + "k" * 43 + "=",
}
CLEAN = [
    "cash-in to *********567 accepted",
    "Authorization: Bearer [REDACTED]",
    'provider call wave payout POST -> ok in 4 ms {"amount_minor": 1500000, "t": 1764800000}',
    "transaction txn_01M8YZ5XW3E9QMPHFE96M94HZQ: new -> pending (api)",
]


def test_the_scanner_finds_every_kind_of_leak_and_nothing_in_clean_lines(tmp_path: Path) -> None:
    log = tmp_path / "planted.log"
    log.write_text("\n".join([*LEAKS.values(), *CLEAN, "made secret: s3cr3t-value-h4b"]) + "\n")
    lines, findings = log_capture.scan([log], {"s3cr3t-value-h4b"})
    assert lines == len(LEAKS) + len(CLEAN) + 1
    found = {finding.number: finding.what for finding in findings}
    assert [found.get(n) for n in range(1, len(LEAKS) + 1)] == list(LEAKS)
    assert found[lines].startswith("a secret the suite created")
    assert len(findings) == len(LEAKS) + 1, [f.line for f in findings]


@pytest.mark.django_db
def test_the_capture_is_live_masked_and_collects_the_secrets_made() -> None:
    capture = log_capture._capture
    assert capture is not None and capture.handler is not None
    created = partner_create(name="Leaky", mode=Mode.TEST, scopes=list(ALL_SCOPES))
    assert {created.api_key, created.signing_secret} <= capture.secrets
    probe = uuid.uuid4().hex
    logging.getLogger("tests.probe").warning("probe %s paid +221771234567 with %s", probe, created.api_key)
    capture.handler.flush()
    written = (capture.directory / f"{capture.worker}-inprocess.log").read_text()
    line = next(line for line in written.splitlines() if probe in line)
    assert "*********567" in line and "+221771234567" not in line  # masked as in production
    assert created.api_key not in line and "ak_test_[REDACTED]" in line  # core/logging.py masks our keys


def test_a_run_whose_logs_leak_fails_with_a_clear_message(tmp_path: Path) -> None:
    planted = tmp_path / "test_leak.py"
    planted.write_text(
        "import logging\ndef test_leaks():\n    logging.getLogger('leak').warning('encryption key ' + 'z' * 43 + '=')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in (log_capture.ENV_DIR, "PYTEST_XDIST_WORKER")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(planted), "-p", "tests.log_capture", "-q", "-p", "no:randomly",
         "-p", "no:cacheprovider", f"--rootdir={ROOT}", "-c", str(ROOT / "pyproject.toml")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    assert "LOG HYGIENE: log lines hold secrets or personal data" in result.stdout
    assert "a Fernet key" in result.stdout and "z" * 43 not in result.stdout.replace("'z' * 43", "")
