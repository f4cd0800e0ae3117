"""`make audit` never passes silently (issue 17, item 7): a requirement the index cannot vouch
for (here: a package that exists nowhere) makes it fail, saying that it could not audit. Where
the index serves no advisories at all (this machine's), the real requirement files fail the
same way; where it does, they are audited for real."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.processes import BIN, ROOT


def audit(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scripts/audit.sh", *map(str, files)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "VENV": str(BIN.parent), "HOME": str(files[0].parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unauditable_requirement_fails_the_audit_plainly(tmp_path: Path) -> None:
    planted = tmp_path / "requirements.txt"
    planted.write_text("addon-partner-no-such-package-h4b==0.0.1\n")
    result = audit(planted)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "COULD NOT AUDIT the 1 pinned packages" in result.stderr
    assert "no known vulnerability" not in result.stdout


def test_make_audit_runs_the_script_and_is_not_part_of_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\naudit: venv\n\t@scripts/audit.sh\n" in makefile
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "audit" not in test_recipe
