"""`make bench`: every figure of docs/performance.md, each with its reference measured in the same
run and its goal, printed as a table and written to bench/results/latest.json.

    python -m bench              # every figure, then every other bench_*.py module's run()
    python -m bench P1 P5        # a subset (`BENCH=P1,P5 make bench`); a module name works too

A figure is a function of a ``bench_*.py`` module listed in its ``FIGURES`` (id → function); it
gets the results measured so far (P2 and P10 load the gateway at half of P1's maximum) and
returns a dict with ``value``, ``unit``, ``reference``, ``ratio``, ``goal`` and ``met``. A module
without ``FIGURES`` (reports, reconciliation…) is run whole through its ``run() -> dict``. A
figure that fails is reported as failed and the others still run. Each figure starts right after
a CHECKPOINT (``bench.common.checkpoint``): the writes of the figure before it are flushed then,
not during its measure.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).parent
Figure = Callable[[dict[str, Any]], dict[str, Any]]


def _modules() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    return [importlib.import_module(f"bench.{name}") for name in names]


def _plan(modules: list[ModuleType], wanted: list[str]) -> list[tuple[str, Figure]]:
    figures: dict[str, Figure] = {}
    for module in modules:
        table = getattr(module, "FIGURES", None)
        if table:
            figures.update(table)
        elif hasattr(module, "run"):
            figures[module.__name__.removeprefix("bench.")] = lambda _results, m=module: m.run()
    order = sorted(figures, key=lambda name: (not name.startswith("P"), len(name), name))
    if not wanted:
        return [(name, figures[name]) for name in order]
    unknown = [name for name in wanted if name not in figures]
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; known: {', '.join(order)}")
    return [(name, figures[name]) for name in order if name in wanted]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [("figure", "value", "unit", "reference", "ratio", "goal", "met")]
    for name, figure in results.items():
        met = figure.get("met")
        rows.append(
            (
                name,
                _cell(figure.get("value")),
                str(figure.get("unit", "")),
                _cell(figure.get("reference")),
                _cell(figure.get("ratio")),
                str(figure.get("goal", "")),
                "FAILED" if "error" in figure else ("yes" if met else "no" if met is not None else "-"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def main(argv: list[str]) -> int:
    from bench.common import checkpoint, setup

    setup()
    wanted = [name.strip() for arg in argv for name in arg.split(",") if name.strip()]
    plan = _plan(_modules(), wanted)
    results: dict[str, dict[str, Any]] = {}
    started = time.time()
    for name, figure in plan:
        print(f"== {name}", flush=True)
        began = time.perf_counter()
        try:
            checkpoint()
            results[name] = figure(results)
        except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the others
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["seconds_taken"] = round(time.perf_counter() - began, 1)
        print(json.dumps(results[name], indent=2, default=str), flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    document = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "figures": results}
    (out / "latest.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    print("\n" + table(results))
    return 1 if any("error" in figure for figure in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
