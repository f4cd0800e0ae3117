"""Issue 15, item 5: ``manage.py start_provider NAME --rail mobile_money`` writes the connector
module, the simulator's skeleton, the docs page and the registry line (the conformance suite's
registration), into a copy of the checkout's registry under ``--root``. The output passes lint,
and the generated connector meets the conformance suite's "not supported" expectations: every
operation refused before any call, no callback accepted. A bad or taken name writes nothing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.errors import ProviderRejected
from mobilemoney.providers.base import CashInBatchRequest
from partners.registry import get_connector_class, unregister
from tests.mobilemoney.harness import cash_in_request, checkout_request, connector_settings

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = Path("mobilemoney/providers/installed.py")
RUFF = Path(sys.executable).parent / "ruff"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory holding the one file of the repository the command edits."""
    (tmp_path / INSTALLED).parent.mkdir(parents=True)
    (tmp_path / INSTALLED).write_text((ROOT / INSTALLED).read_text())
    return tmp_path


def tree(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*")) if path.is_file()}


def load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_scaffold_lints_and_meets_the_not_supported_expectations(checkout: Path) -> None:
    title = "Kash Wallet Sénégal — a long name of 40!"
    call_command("start_provider", "kash_sn", "--rail", "mobile_money", "--title", title, "--root", str(checkout))

    assert set(tree(checkout)) == {
        "mobilemoney/providers/installed.py",
        "mobilemoney/providers/kash_sn.py",
        "sandbox/kash_sn/__init__.py",
        "sandbox/kash_sn/simulator.py",
        "sandbox/kash_sn/urls.py",
        str(Path("docs", "providers", "kash_sn.md")),
    }
    now, scaffolded = (load(root / INSTALLED, f"installed_{n}") for n, root in enumerate((ROOT, checkout)))
    assert (*now.CONNECTOR_MODULES, "mobilemoney.providers.kash_sn") == scaffolded.CONNECTOR_MODULES
    assert "TODO" in (checkout / "mobilemoney/providers/kash_sn.py").read_text()
    for command in (["check"], ["format", "--check"]):
        lint = subprocess.run(
            [str(RUFF), *command, "--config", str(ROOT / "pyproject.toml"), str(checkout)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr

    load(checkout / "mobilemoney/providers/kash_sn.py", "scaffold_kash_sn")
    try:
        simulator = load(checkout / "sandbox/kash_sn/simulator.py", "scaffold_kash_sn_simulator").SIMULATOR
        connector = get_connector_class("kash_sn")(
            connector_settings("kash_sn", "http://127.0.0.1:9/", {"api_key": "k"})
        )
    finally:
        unregister("kash_sn")
    assert (simulator.connector, simulator.prefix, simulator.urls) == ("kash_sn", "kash-sn/", "sandbox.kash_sn.urls")
    session = "co_1"
    calls = [
        lambda: connector.cash_in(cash_in_request()),
        lambda: connector.cash_in_status("txn_1"),
        lambda: connector.cash_in_batch(CashInBatchRequest(reference="b", items=(cash_in_request(),))),
        lambda: connector.checkout_create(checkout_request()),
        lambda: connector.checkout_get(session),
        lambda: connector.checkout_search("txn_1"),
        lambda: connector.checkout_expire(session),
        lambda: connector.checkout_refund(session),
        lambda: connector.sandbox_pay_checkout(session, "+221770001234"),
        connector.balance,
    ]
    for call in calls:  # refused before any call (the base URL listens nowhere)
        with pytest.raises(ProviderRejected, match=f"not supported by {title}"):
            call()
    assert not (connector.supports_batch or connector.supports_checkout_expire or connector.sends_cash_in_callbacks)
    assert connector.verify_callback({"Signature": "t=1,v1=00"}, b"{}", 1.0) is False
    with pytest.raises(ValueError):
        connector.parse_callback({}, b"{}")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("mixx", "exists already"),  # a registered connector
        ("kash", "exists already"),  # its docs page is there
        ("Kash-SN", "is not a connector name"),
        ("class", "is not a connector name"),
        ("k", "is not a connector name"),
    ],
)
def test_a_bad_or_taken_name_is_refused_and_writes_nothing(checkout: Path, name: str, error: str) -> None:
    (checkout / "docs/providers").mkdir(parents=True)
    (checkout / "docs" / "providers" / "kash.md").write_text("# Kash\n")
    before = tree(checkout)

    with pytest.raises(CommandError, match=error):
        call_command("start_provider", name, "--rail", "mobile_money", "--root", str(checkout))

    assert tree(checkout) == before


def test_a_directory_that_is_not_a_checkout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not found"):
        call_command("start_provider", "kash", "--rail", "mobile_money", "--root", str(tmp_path))
    assert list(tmp_path.iterdir()) == []
