"""The project's modules and their imports, read from the source (no import is executed)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import ROOT

# Our code: every package of the house (tests and benchmarks are not part of the product).
PACKAGES = (
    "config",
    "core",
    "partners",
    "ledger",
    "payments",
    "mobilemoney",
    "banking",
    "notifications",
    "events",
    "sandbox",
    "clients",
)


@dataclass(frozen=True)
class Source:
    module: str
    path: Path

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def sources() -> list[Source]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append(Source(".".join(parts), path))
    return found


def _absolute(source: Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.module.split(".")
    if not source.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(source: Source, modules: set[str]) -> Iterator[tuple[str, int]]:
    """(imported module of ours, line) for every import statement, at any depth (functions too)."""
    tree = ast.parse(source.path.read_text(), filename=str(source.path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _ours(alias.name, modules)
                if target:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(source, node)
            for alias in node.names:
                # ``from a.b import c`` imports the module a.b.c when there is one, else a name of a.b
                target = _ours(f"{base}.{alias.name}", modules) if f"{base}.{alias.name}" in modules else None
                target = target or _ours(base, modules)
                if target:
                    yield target, node.lineno


def _ours(name: str, modules: set[str]) -> str | None:
    """The most specific module of ours that ``name`` names (``a.b.c`` → ``a.b`` if c is a name)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph() -> dict[str, dict[str, int]]:
    """module → {imported module: first line} for every module of ours."""
    all_sources = sources()
    modules = {s.module for s in all_sources}
    graph: dict[str, dict[str, int]] = {}
    for source in all_sources:
        edges: dict[str, int] = {}
        for target, line in imports_of(source, modules):
            if target != source.module:
                edges.setdefault(target, line)
        graph[source.module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
