"""Only ``ledger/`` creates transactions, their events and outbox rows (docs/architecture.md §11): the other
apps ask the ledger's services (``transaction_create``, ``transactions_create_bulk``,
``outbox_record``), so every creation passes the same checks, holds and events."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tests.architecture.graph import Source, sources

OWNED = frozenset({"Transaction", "TransactionEvent", "OutboxEvent"})
CREATING_METHODS = frozenset({"create", "bulk_create", "get_or_create", "update_or_create"})


def _model_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def creations(path: Path) -> list[tuple[int, str]]:
    """(line, what) of every construction of, or creating manager call on, an owned model."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = _model_name(node.func)
        if name in OWNED:
            found.append((node.lineno, f"{name}(...)"))
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in CREATING_METHODS
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "objects"
            and _model_name(func.value.value) in OWNED
        ):
            found.append((node.lineno, f"{_model_name(func.value.value)}.objects.{func.attr}(...)"))
    return found


def _outside_ledger() -> list[Source]:
    return [s for s in sources() if not s.module.startswith("ledger")]


def test_no_module_outside_the_ledger_creates_transactions_events_or_outbox_rows() -> None:
    outside = _outside_ledger()
    assert len(outside) > 150
    offenders = [
        f"{source.path.relative_to(source.path.parents[len(source.module.split('.')) - 1])}:{line} {what}"
        for source in outside
        for line, what in creations(source.path)
    ]
    assert not offenders, "only ledger/ may create these rows:\n" + "\n".join(offenders)


def test_the_ledger_itself_is_seen_creating_them() -> None:
    """The scan finds what it looks for (else the test above could never fail)."""
    ledger_files = [s.path for s in sources() if s.module.startswith("ledger.services")]
    assert any(what.startswith("Transaction(") for path in ledger_files for _, what in creations(path))
    assert any(what.startswith("OutboxEvent(") for path in ledger_files for _, what in creations(path))
    assert any(what.startswith("TransactionEvent(") for path in ledger_files for _, what in creations(path))


def test_every_form_of_creation_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "rogue.py"
    path.write_text(
        textwrap.dedent(
            """
            from ledger import models
            from ledger.models import Transaction, OutboxEvent
            Transaction(amount_minor=1)
            models.TransactionEvent(to_status="pending")
            OutboxEvent.objects.bulk_create([])
            models.Transaction.objects.create(amount_minor=1)
            Transaction.objects.filter(pk=1).update(status="failed")  # a write, but not a creation
            """
        )
    )
    assert [line for line, _ in creations(path)] == [4, 5, 6, 7]
