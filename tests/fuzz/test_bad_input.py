"""Hostile bodies on every operation that takes one (issue 17, item 4): each is refused with a 4xx
``application/problem+json``, never a 5xx or a hang, and no row of any table of ours is created.

The operations come from the URLconf (every POST/PUT/PATCH of ``/api/v1/`` and every callback
route) and the cases from each operation's OpenAPI request schema (every string, number and
amount field it declares), so a new endpoint or field is covered without being named here. The
requests go through Django's test client, in-process, signed by a test-mode partner holding every
scope (the partner API checks signatures before anything else). Provider callbacks are stored raw
before they are verified (docs/architecture.md §4): for them a new row of their own callback table
is expected, flagged as unverified, and nothing else.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest

from banking.models import BankCallback
from mobilemoney.models import InboundCallback
from tests.fuzz.support import (
    Caller,
    Operation,
    body_from_schema,
    body_operations,
    fuzz_partner,
    json_fields,
    openapi_document,
    our_tables,
    row_counts,
    valid_bodies,
)

OPERATIONS = body_operations()
HUGE = 20 * 1024 * 1024
DEEP = 10_000
CALLBACK_TABLES = {"mobilemoney_inboundcallback", "banking_bankcallback"}
# What XOF cannot be: no minor unit, positive, at most 18 digits, a decimal string.
BAD_AMOUNTS: list[Any] = ["1e9", 1e9, "-1", "0", "1.5", "1" * 25, 1500, -1, 0, 1.5]
LONG = 10_000
BAD_TEXTS: list[Any] = ["nul\x00here", "ctrl\x01here", "lone\ud800surrogate", 12345, True, ["x"], {"x": "y"}]
BAD_NUMBERS: list[Any] = [10**25, -(10**25), 1.5, "60", True, "x" * LONG]


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    content_type: str


def encode(value: Any) -> bytes:
    # ensure_ascii: a lone surrogate travels as the six bytes of its JSON escape, as an attacker sends it
    return json.dumps(value, ensure_ascii=True).encode()


def generic_cases(media_type: str) -> list[Case]:
    """Cases that need no knowledge of the operation's fields."""
    deep_object = b'{"a":' * DEEP + b"1" + b"}" * DEEP
    cases = [
        Case("not JSON", b"{this is not json", "application/json"),
        Case("empty body", b"", "application/json"),
        Case("JSON null", b"null", "application/json"),
        Case("JSON array", b"[]", "application/json"),
        Case("JSON array of objects", b'[{"amount": "100"}]', "application/json"),
        Case("JSON string", b'"hello"', "application/json"),
        Case("invalid UTF-8", b'{"a": "\xff\xfe"}', "application/json"),
        Case(f"arrays nested {DEEP} deep", b"[" * DEEP + b"]" * DEEP, "application/json"),
        Case(f"objects nested {DEEP} deep", deep_object, "application/json"),
        Case("objects nested 1,000 deep", b'{"a":' * 1000 + b"1" + b"}" * 1000, "application/json"),
        Case("NUL key", encode({"\x00": "x"}), "application/json"),
        Case("lone surrogate key", encode({"\udc00": "x"}), "application/json"),
        Case("duplicate keys", b'{"a": "1", "a": "2"}', "application/json"),
        Case("NaN", b'{"amount": NaN}', "application/json"),
        Case("20 MB", b'{"x": "' + b"a" * HUGE + b'"}', "application/json"),
        Case("text/plain", b'{"amount": "100"}', "text/plain"),
        Case("form", b"amount=100&currency=XOF", "application/x-www-form-urlencoded"),
        Case(
            "multipart", b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\n", "multipart/form-data"
        ),
        Case("unknown type", b"\x00\x01\x02", "application/octet-stream"),
        Case("bad charset", b'{"a": "1"}', "application/json; charset=bz2_codec"),
    ]
    if media_type == "application/xml":
        cases += [
            Case("XML not XML", b"<not xml", media_type),
            Case(f"XML nested {DEEP} deep", b"<a>" * DEEP + b"</a>" * DEEP, media_type),
            Case("XML control character reference", b"<Document>&#1;</Document>", media_type),
            Case("XML raw control character", b"<Document>\x01</Document>", media_type),
            Case("XML entity expansion", b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]><d>&a;&a;</d>', media_type),
            Case("XML 20 MB", b"<d>" + b"a" * HUGE + b"</d>", media_type),
        ]
    if media_type == "text/csv":
        cases += [
            Case("CSV NUL", b"msisdn,amount,currency,client_reference\n+221770001234,1\x00500,XOF,r\n", media_type),
            Case("CSV not UTF-8", b"msisdn,amount\n\xff\xfe,1\n", media_type),
            Case(
                "CSV huge field",
                b"msisdn,amount,currency,client_reference\n" + b"9" * 300_000 + b",1,XOF,r\n",
                media_type,
            ),
            Case("CSV no header", b"\n", media_type),
        ]
    return cases


def _set(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path`` (objects created where missing), or None."""
    body = copy.deepcopy(body)
    node = body
    for step, following in itertools.pairwise(path):
        if isinstance(node, dict):
            if not isinstance(node.get(step), dict | list):
                node[step] = [{}] if isinstance(following, int) else {}
        elif not (isinstance(node, list) and node):
            return None
        node = node[step]
    if not isinstance(node, dict | list) or (isinstance(node, list) and not node):
        return None
    node[path[-1]] = value
    return body


def field_cases(document: dict[str, Any], operation: Operation) -> list[Case]:
    """A valid body with one field made hostile at a time, for every field of the request schema."""
    request = document["paths"].get(operation.path, {}).get(operation.method, {}).get("requestBody")
    schema = (request or {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    base = valid_bodies().get(operation.path) or body_from_schema(document, schema)
    cases: list[Case] = []
    for path, field in json_fields(document, schema):
        name = ".".join(str(step) for step in path)
        if path[-1] in ("amount", "ctrl_sum"):
            values = BAD_AMOUNTS
        elif field.get("type") in ("integer", "number"):
            values = BAD_NUMBERS
        else:  # longer than the field allows, or than any text we take unbounded (10,000 characters)
            values = [*BAD_TEXTS, "x" * max(LONG, field.get("maxLength", 0) + 1)]
        for value in values:
            body = _set(base, path, value)
            if body is not None:
                cases.append(Case(f"{name} = {value!r:.40}", encode(body), "application/json"))
    return cases


def media_types(document: dict[str, Any], operation: Operation) -> list[str]:
    request = document["paths"].get(operation.path, {}).get(operation.method, {}).get("requestBody")
    return list((request or {}).get("content", {})) or ["application/json"]


def problem_of(response: Any) -> str | None:
    """What is wrong with an answer to a hostile body (None when it is a proper refusal)."""
    if not 400 <= response.status_code < 500:
        return f"answered {response.status_code}"
    if response["Content-Type"] != "application/problem+json":
        return f"answered {response.status_code} as {response['Content-Type']}"
    body = json.loads(response.content)
    if body.get("status") != response.status_code or not body.get("code"):
        return f"answered a problem without its status or code: {body}"
    return None


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def test_the_operations_are_found_in_the_urlconf() -> None:
    paths = {str(operation) for operation in OPERATIONS}
    assert "POST /api/v1/mobile-money/cash-ins" in paths and "POST /api/v1/notifications/push" in paths
    assert {"POST /callbacks/wave", "POST /callbacks/orange-money", "POST /callbacks/partner-bank"} <= paths
    assert len(OPERATIONS) >= 17


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_hostile_body_is_refused_with_a_problem_and_creates_nothing(
    operation: Operation, document: dict[str, Any], client: Any
) -> None:
    caller = Caller(client, None if operation.is_callback else fuzz_partner())
    cases = [case for media in media_types(document, operation) for case in generic_cases(media)]
    cases += field_cases(document, operation)
    tables = our_tables()
    before = row_counts(tables)
    failures: list[str] = []
    for case in cases:
        response = caller.send(operation, case.body, case.content_type)
        problem = problem_of(response)
        if problem:
            failures.append(f"{case.name}: {problem} {response.content[:300]!r}")
    after = row_counts(tables)
    created = {table: after[table] - before[table] for table in tables if after[table] != before[table]}
    if operation.is_callback:  # kept raw in its own table, refused there, and nothing else
        assert set(created) <= CALLBACK_TABLES, created
        assert not BankCallback.objects.exclude(status__in=["invalid_signature", "unreadable"]).exists()
        assert not InboundCallback.objects.exclude(status="rejected").exists()
    else:
        assert created == {}, f"{operation}: rows created by refused requests: {created}"
    assert not failures, f"{operation}: {len(failures)} of {len(cases)} cases\n" + "\n".join(failures)
