"""The OpenAPI schema documents every partner endpoint: it generates without a warning and
validates against the OpenAPI specification."""

import subprocess
import sys

from tests.processes import ROOT


def test_schema_generates_without_warnings_and_validates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    text = out.read_text()
    for path in ("/api/v1/me", "/api/v1/transactions", "/api/v1/balances"):
        assert f"  {path}:" in text
