"""The README documents every environment variable config/env.py reads."""

from config.env import REGISTRY
from tests.processes import ROOT


def test_every_environment_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in REGISTRY if f"`{name}`" not in readme]
    assert REGISTRY and not missing, f"README.md does not document: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)
