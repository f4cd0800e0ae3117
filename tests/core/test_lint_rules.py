"""The lint rule that keeps every outbound HTTP call in core's provider client bites."""

import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT

RUFF = Path(sys.executable).parent / "ruff"


def ruff_check(relative: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", "--stdin-filename", relative, "-"],
        cwd=ROOT,
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_requests_is_banned_outside_the_provider_client() -> None:
    result = ruff_check("mobilemoney/providers/example.py", "import requests\n\nrequests.get('x', timeout=1)\n")
    assert result.returncode == 1
    assert "TID251" in result.stdout and "core.http.ProviderHttpClient" in result.stdout


def test_requests_is_allowed_in_the_provider_client() -> None:
    result = ruff_check("core/http.py", "import requests\n\nrequests.get('x', timeout=1)\n")
    assert "TID251" not in result.stdout
