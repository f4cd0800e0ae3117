"""Every dependency is pinned to one version (issue 17, item 7): ``==`` and nothing else, so
``make audit`` audits exactly what is installed and an update is a reviewed one-line change
(CONTRIBUTING.md "Updating the pins")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.processes import ROOT

REQUIREMENT_FILES = ["requirements.txt", "requirements-dev.txt"]
# name[extras]==version, nothing after it but a comment
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[A-Za-z0-9.+!-]+(\s+#.*)?$")


def unpinned_lines(path: Path) -> list[str]:
    bad = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.fullmatch(r"-r\s+requirements[\w-]*\.txt", line):
            continue
        if not PINNED.match(line):
            bad.append(line)
    return bad


@pytest.mark.parametrize("name", REQUIREMENT_FILES)
def test_every_requirement_is_pinned_to_one_version(name: str) -> None:
    path = ROOT / name
    assert path.read_text().strip(), f"{name} is empty"
    assert unpinned_lines(path) == [], f"{name}: pin every requirement with == (CONTRIBUTING.md)"


@pytest.mark.parametrize(
    "line",
    ["Django>=5.2", "requests", "celery~=5.7", "lxml==6.*", "redis==8.1.0,<9", "pkg @ https://example.org/p.whl"],
)
def test_the_check_refuses_what_is_not_a_pin(tmp_path: Path, line: str) -> None:
    planted = tmp_path / "requirements.txt"
    planted.write_text(f"# pinned\nDjango==5.2.19\n{line}\n")
    assert unpinned_lines(planted) == [line]
