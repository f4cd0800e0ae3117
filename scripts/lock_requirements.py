"""Print the full, pinned set of runtime packages: requirements.txt and everything it pulls in.

The versions are those installed in the running virtualenv (the one `make test` tested), found by
walking each distribution's declared requirements; dev-only packages are not reached. `make dist`
ships the output as requirements.lock, so a host installs exactly what CI tested.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def top_level(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def closure(roots: list[Requirement]) -> dict[str, str]:
    pinned: dict[str, str] = {}
    todo = [(root, frozenset(root.extras)) for root in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist = metadata.distribution(requirement.name)
        pinned[dist.metadata["Name"]] = dist.version
        for raw in dist.requires or []:
            child = Requirement(raw)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in environments):
                todo.append((child, frozenset(child.extras)))
    return pinned


def main() -> None:
    pinned = closure(top_level(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.txt")))
    for name in sorted(pinned, key=str.lower):
        print(f"{name}=={pinned[name]}")


if __name__ == "__main__":
    main()
