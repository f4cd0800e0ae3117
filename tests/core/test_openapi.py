"""The OpenAPI schema tells partners the truth, and they have it without a staff login.

- it generates without a warning and validates against the OpenAPI specification;
- ``docs/openapi.yaml`` (what partners read) is exactly the generated schema;
- every request and response body is typed: no bare ``object``, no JSON body without a schema;
- ``Idempotency-Key`` is a required header on exactly the POSTs whose handler is ``@idempotent``;
- every operation declares its ``application/problem+json`` error answers;
- every operation has a readable id, its own summary and its own description, written for partners.

What each operation really answers is checked by the tour (tests/contract/test_api_tour.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.tour import api_routes
from tests.processes import ROOT

COMMITTED = ROOT / "docs" / "openapi.yaml"
REGENERATE = "make openapi  (or: python manage.py spectacular --file docs/openapi.yaml)"
TEXT_MEDIA_TYPES = {"text/csv", "application/xml"}
# Every operation; then what a path parameter, a POST and an idempotent POST add.
ERRORS_OF_EVERY_OPERATION = {"400", "401", "403", "429"}
ERRORS_OF_AN_OBJECT = {"404"}
ERRORS_OF_A_POST = {"413", "422", "503"}
ERRORS_OF_AN_IDEMPOTENT_POST = {"409"}
INTERNAL_WORDING = re.compile(r"``|APIView|PartnerApiView|docs/architecture|docs/conventions|\bself\.")

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    out: Path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return out.read_text()


@pytest.fixture(scope="module")
def document(generated: str) -> dict[str, Any]:
    return dict(yaml.safe_load(generated))


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_schema_generates_without_warnings_and_validates(generated: str) -> None:
    for path in ("/api/v1/me", "/api/v1/transactions", "/api/v1/balances"):
        assert f"  {path}:" in generated


def test_the_committed_schema_is_the_generated_one(generated: str) -> None:
    assert COMMITTED.exists(), f"docs/openapi.yaml is missing; regenerate it: {REGENERATE}"
    assert COMMITTED.read_text() == generated, f"docs/openapi.yaml differs from the code; regenerate it: {REGENERATE}"


# --- typed bodies ---------------------------------------------------------------------------------


def untyped(document: dict[str, Any], node: dict[str, Any] | None, where: str, seen: frozenset[str]) -> list[str]:
    """Where, under ``node``, a value's shape is not declared: an object without properties whose
    values are not typed, or a value without a type, unless a description says what it holds."""
    if node is None:
        return [f"{where}: no schema"]
    if "$ref" in node:
        if node["$ref"] in seen:
            return []
        seen = seen | {node["$ref"]}
        node = resolve(document, node)
    found: list[str] = []
    for combinator in ("allOf", "oneOf", "anyOf"):
        for index, part in enumerate(node.get(combinator, [])):
            found += untyped(document, part, f"{where}.{combinator}[{index}]", seen)
    kind = node.get("type")
    values = node.get("additionalProperties")
    typed_values = isinstance(values, dict) and bool(values)
    if kind is None and not any(k in node for k in ("allOf", "oneOf", "anyOf", "enum")) and not node.get("description"):
        found.append(f"{where}: no type")
    if kind == "object" and not node.get("properties") and not typed_values and not node.get("description"):
        found.append(f"{where}: an object without properties")
    for name, child in node.get("properties", {}).items():
        found += untyped(document, child, f"{where}.{name}", seen)
    if typed_values:
        found += untyped(document, values, f"{where}.*", seen)
    if kind == "array":
        found += untyped(document, node.get("items"), f"{where}[]", seen)
    return found


def bodies(operation: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """(what, media type, schema) of the request body and of every response of an operation."""
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        yield "request", media_type, content.get("schema")
    for status, response in operation["responses"].items():
        if status.startswith("2") and not response.get("content"):
            yield status, "(none)", None
        for media_type, content in response.get("content", {}).items():
            yield status, media_type, content.get("schema")


def test_every_body_is_typed(document: dict[str, Any]) -> None:
    problems: list[str] = []
    for method, path, operation in operations(document):
        for what, media_type, schema in bodies(operation):
            where = f"{method.upper()} {path} {what} {media_type}"
            if media_type in TEXT_MEDIA_TYPES:
                if schema is None or resolve(document, schema).get("type") != "string":
                    problems.append(f"{where}: not a string")
                continue
            top = resolve(document, schema) if schema is not None else None
            if top is not None and top.get("type") == "object" and not top.get("properties"):
                problems.append(f"{where}: a bare object")  # a body is never free-form, even described
            problems += untyped(document, schema, where, frozenset())
    assert not problems, "\n".join(problems)


def test_the_typed_body_check_finds_an_untyped_body() -> None:
    bare = {"type": "object", "additionalProperties": {}}
    document = {"components": {"schemas": {"Bare": bare}}}
    assert untyped(document, {"$ref": "#/components/schemas/Bare"}, "x", frozenset()) == [
        "x: an object without properties"
    ]
    assert untyped(document, None, "x", frozenset()) == ["x: no schema"]
    assert untyped(document, {"type": "array", "items": {}}, "x", frozenset()) == ["x[]: no type"]
    described = {"type": "object", "additionalProperties": {}, "description": "free-form context"}
    assert untyped(document, {"type": "object", "properties": {"meta": described}}, "x", frozenset()) == []


# --- Idempotency-Key ------------------------------------------------------------------------------


def idempotent_handlers() -> dict[tuple[str, str], bool]:
    """(method, OpenAPI path) → whether the view's handler is wrapped by ``@idempotent``."""
    return {
        (method, path): bool(getattr(getattr(view, method), "requires_idempotency_key", False))
        for path, view in api_routes()
        for method in ("get", "post", "put", "patch", "delete")
        if hasattr(view, method)
    }


def idempotency_header(operation: dict[str, Any]) -> dict[str, Any] | None:
    headers = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
    assert len(headers) <= 1
    return headers[0] if headers else None


def test_idempotency_key_is_required_exactly_where_the_handler_is_idempotent(document: dict[str, Any]) -> None:
    handlers = idempotent_handlers()
    documented = {(method, path) for method, path, _ in operations(document)}
    assert documented == set(handlers), "the schema and the URLconf name different operations"
    assert sum(handlers.values()) >= 10
    for method, path, operation in operations(document):
        header = idempotency_header(operation)
        if handlers[(method, path)]:
            assert header is not None and header["required"] is True, f"{method} {path}: Idempotency-Key not required"
            assert header["schema"]["type"] == "string"
        else:
            assert header is None, f"{method} {path} declares an Idempotency-Key it does not read"


# --- problem+json errors --------------------------------------------------------------------------


def test_every_operation_declares_its_problem_responses(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code"}
    for method, path, operation in operations(document):
        expected = set(ERRORS_OF_EVERY_OPERATION)
        if "{" in path:
            expected |= ERRORS_OF_AN_OBJECT
        if method == "post":
            expected |= ERRORS_OF_A_POST
            if idempotency_header(operation) is not None:
                expected |= ERRORS_OF_AN_IDEMPOTENT_POST
        responses = operation["responses"]
        assert expected <= set(responses), f"{method} {path}: missing {sorted(expected - set(responses))}"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["description"], f"{method} {path} {status}"
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, f"{method} {path} {status}"
        successes = [s for s in responses if s.startswith("2")]
        assert len(successes) == 1, f"{method} {path}: {successes}"


# --- words for partners ---------------------------------------------------------------------------


def test_every_operation_has_a_readable_id_and_its_own_summary_and_description(document: dict[str, Any]) -> None:
    ids: dict[str, str] = {}
    summaries: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for method, path, operation in operations(document):
        name = f"{method.upper()} {path}"
        operation_id, summary = operation["operationId"], operation.get("summary", "")
        description = operation.get("description", "")
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", operation_id), f"{name}: operationId {operation_id!r}"
        assert summary.strip() and len(summary) <= 80, f"{name}: summary {summary!r}"
        assert len(description) >= 60, f"{name}: description {description!r}"
        for text in (summary, description):
            assert not INTERNAL_WORDING.search(text), f"{name}: internal wording in {text!r}"
        for seen, value in ((ids, operation_id), (summaries, summary), (descriptions, description)):
            assert value not in seen, f"{name} shares {value[:60]!r} with {seen[value]}"
            seen[value] = name


def test_money_moving_posts_answer_202_and_creations_201(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in (
        "/api/v1/mobile-money/cash-ins",
        "/api/v1/mobile-money/cash-in-batches",
        "/api/v1/mobile-money/cash-in-batches/{public_id}/retry",
        "/api/v1/mobile-money/checkout-sessions/{public_id}/refund",
        "/api/v1/bills/payments",
        "/api/v1/banking/transfers",
        "/api/v1/banking/transfer-batches",
    ):
        assert "202" in paths[path]["post"]["responses"], path
    for path in ("/api/v1/mobile-money/checkout-sessions", "/api/v1/bills/quotes"):
        assert "201" in paths[path]["post"]["responses"], path
