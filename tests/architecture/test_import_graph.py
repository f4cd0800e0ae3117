"""Dependencies point one way: no import cycle between the project's modules (imports inside
functions count: a service that imports its own tasks "lazily" is still a circle)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.architecture import graph
from tests.architecture.graph import Source, cycles, import_graph, imports_of


def _describe(group: list[str], edges: dict[str, dict[str, int]]) -> str:
    members = set(group)
    lines = [
        f"  {module} -> {target} (line {line})"
        for module in group
        for target, line in edges[module].items()
        if target in members
    ]
    return "\n".join([" / ".join(group), *lines])


def test_no_import_cycle_between_the_projects_modules() -> None:
    edges = import_graph()
    assert len(edges) > 200  # the whole house was read, not an empty corner of it
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n\n".join(_describe(group, edges) for group in found)


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    path = tmp_path / "services.py"
    path.write_text(
        textwrap.dedent(
            """
            from . import models
            def create():
                from shop.tasks import work
                import shop.other
            """
        )
    )
    found = dict(imports_of(Source("shop.services", path), {"shop.models", "shop.tasks", "shop.other", "shop"}))
    assert set(found) == {"shop.models", "shop.tasks", "shop.other"}


def test_a_cycle_through_a_function_level_import_is_found() -> None:
    edges = {"a.services": {"a.tasks": 3}, "a.tasks": {"a.services": 1}, "b": {"a.tasks": 1}}
    assert cycles(edges) == [["a.services", "a.tasks"]]
    assert graph.cycles({"a": {"b": 1}, "b": {}}) == []
