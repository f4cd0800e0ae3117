"""COPY is a way of creating rows the ledger's ownership scan (tests/architecture/
test_ledger_owns_its_tables.py) does not look for: ``copy_rows`` (core/bulk_copy.py) of a
transaction, event or outbox row anywhere but ``ledger/`` would skip the ledger's checks, holds
and events (docs/conventions.md §35). This scan looks for it."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tests.architecture.graph import sources
from tests.architecture.test_ledger_owns_its_tables import OWNED, _model_name


def copies(path: Path) -> list[tuple[int, str]]:
    """(line, model) of every ``copy_rows(<model>, ...)`` call whose model is one the ledger owns."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and _model_name(node.func) == "copy_rows" and node.args:
            model = _model_name(node.args[0])
            if model in OWNED:
                found.append((node.lineno, str(model)))
    return found


def test_no_module_outside_the_ledger_copies_transactions_events_or_outbox_rows() -> None:
    outside = [s for s in sources() if not s.module.startswith("ledger")]
    assert len(outside) > 150
    offenders = [f"{source.module}:{line} copy_rows({model}, ...)" for source in outside
                 for line, model in copies(source.path)]  # fmt: skip
    assert not offenders, "only ledger/ may create these rows:\n" + "\n".join(offenders)


def test_the_ledger_itself_is_seen_copying_them() -> None:
    """The scan finds what it looks for (else the test above could never fail)."""
    ledger = [s.path for s in sources() if s.module.startswith("ledger.services")]
    seen = {model for path in ledger for _, model in copies(path)}
    assert seen == OWNED


def test_every_form_of_copy_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "rogue.py"
    path.write_text(
        textwrap.dedent(
            """
            from core import bulk_copy
            from core.bulk_copy import copy_rows
            from ledger import models
            copy_rows(models.Transaction, ["id"], [])
            bulk_copy.copy_rows(OutboxEvent, ["type"], [])
            copy_rows(CashIn, ["msisdn"], [])  # not the ledger's
            """
        )
    )
    assert copies(path) == [(5, "Transaction"), (6, "OutboxEvent")]
