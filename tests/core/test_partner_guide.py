"""docs/partner-api.md is what a partner's developer has: it lists every error code the gateway
answers with, every endpoint of the schema with an example, and sends readers only to documents
they have (docs/openapi.yaml, no staff page, no internal document)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from core.errors import ErrorCode
from tests.processes import ROOT

GUIDE = ROOT / "docs" / "partner-api.md"
SCHEMA = ROOT / "docs" / "openapi.yaml"
ERROR_ROW = re.compile(r"^\| `([a-z_]+)` \| ([0-9 /]+|—) \| (.+) \|$", re.MULTILINE)
ENDPOINT_ROW = re.compile(r"^\| `(GET|POST) (/[^`]*)`", re.MULTILINE)


def section(title: str) -> str:
    text = GUIDE.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_error_code_is_in_the_guide_table_with_its_status() -> None:
    rows = {code: (status, meaning) for code, status, meaning in ERROR_ROW.findall(section("6. Errors"))}
    assert set(rows) == {code.value for code in ErrorCode}, (
        f"missing: {sorted({c.value for c in ErrorCode} - set(rows))}; unknown: {sorted(set(rows) - set(ErrorCode))}"
    )
    for code, (status, meaning) in rows.items():
        statuses = [] if status == "—" else [int(s) for s in status.split("/")]
        assert all(400 <= s < 600 for s in statuses) and meaning.strip(), code


def test_every_operation_of_the_schema_is_in_the_guide() -> None:
    document: dict[str, Any] = yaml.safe_load(SCHEMA.read_text())
    endpoints = section("9. Endpoints")
    listed = {(method.lower(), "/api/v1" + path) for method, path in ENDPOINT_ROW.findall(endpoints)}
    normalised = {(method, re.sub(r"\{[a-z_]+\}", "{id}", path)) for method, path in listed}
    for path, operations in document["paths"].items():
        for method in operations:
            generic = re.sub(r"\{[a-z_]+\}", "{id}", path)
            assert (method, generic) in normalised, f"{method.upper()} {path} is not in the guide's endpoint table"
            short = generic.removeprefix("/api/v1")
            assert f"**`{method.upper()} {short}`**" in endpoints, f"{method.upper()} {short} has no entry of its own"
    assert len(normalised) == sum(len(ops) for ops in document["paths"].values())


def test_the_guide_sends_readers_only_to_what_they_have() -> None:
    text = GUIDE.read_text()
    assert "(openapi.yaml)" in text
    for internal in ("staff login", "/api/docs/", "/api/schema/", "architecture.md", "conventions.md"):
        assert internal not in text, internal
