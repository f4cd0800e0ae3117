"""Which release of the gateway this process runs (docs/architecture.md §12).

``make dist`` writes a ``RELEASE`` file at the root of the artifact (``version=…``, ``commit=…``);
``deploy/deploy.sh`` adds ``name=<UTC timestamp>-<commit>``, the release's directory on the host,
so the deploy can tell the new release from the previous one on ``/health/ready`` even when both
were built from the same commit. A checkout without the file reports the project's version and
``commit=unknown``.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Release:
    """The running release: its version, the commit it was built from, its directory name."""

    version: str
    commit: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def parse_release_file(text: str) -> dict[str, str]:
    """``key=value`` lines; blank lines and ``#`` comments ignored."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def project_version(pyproject: Path) -> str:
    try:
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def release_read(base_dir: Path) -> Release:
    """The release described by ``base_dir/RELEASE``, or the checkout's version without it."""
    try:
        values = parse_release_file((base_dir / "RELEASE").read_text(encoding="utf-8"))
    except FileNotFoundError:
        values = {}
    return Release(
        version=values.get("version") or project_version(base_dir / "pyproject.toml"),
        commit=values.get("commit", "unknown"),
        name=values.get("name", ""),
    )
