"""What the schema documents is what the API does: a tour of every operation over real HTTP
answers only statuses its OpenAPI operation declares, and every operation is toured (a new route
that the tour misses fails here); every list pages with the one paginator, both as declared in
the URLconf's views and as answered on the wire."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.api.pagination import CursorPaginator
from tests.contract.tour import PREFIX, Tour, api_routes, start, walk

EXPECTED_REFUSALS = {("post", f"{PREFIX}/events/test"): 503}  # Kafka is off in the suite (events tests turn it on)


def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


ROUTES = api_routes()
GET_ROUTES = [(path, view) for path, view in ROUTES if hasattr(view, "get")]
LIST_ROUTES = [
    (path, view) for path, view in GET_ROUTES if isinstance(getattr(view, "paginator", None), CursorPaginator)
]


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return schema()


@pytest.mark.parametrize(("path", "view"), GET_ROUTES, ids=[path for path, _ in GET_ROUTES])
def test_every_list_is_declared_with_the_one_paginator(path: str, view: type, document: dict[str, Any]) -> None:
    operation = document["paths"][path]["get"]
    as_json = operation["responses"]["200"]["content"].get("application/json")  # the pain.002 report is XML only
    answer = _resolve(document, as_json["schema"]) if as_json else {}
    is_list = "next_cursor" in answer.get("properties", {})
    paginator = getattr(view, "paginator", None)
    assert is_list == isinstance(paginator, CursorPaginator), f"{path}: a list must use core.api.pagination"
    if is_list:
        assert isinstance(paginator, CursorPaginator)
        assert (paginator.default_limit, paginator.max_limit) == (25, 100)
        assert {"limit", "cursor"} <= {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_the_urlconf_walk_sees_every_list() -> None:
    assert len(ROUTES) >= 25 and len(LIST_ROUTES) >= 5


@pytest.fixture
def toured(live_server) -> Tour:  # type: ignore[no-untyped-def]
    tour = start(live_server.url)
    walk(tour)
    return tour


@pytest.mark.django_db(transaction=True)
def test_every_operation_is_toured_and_answers_a_documented_status(toured: Tour, document: dict[str, Any]) -> None:
    documented = {
        (method, path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert set(toured.seen) == set(documented), "the tour and the schema name different operations"
    for operation, statuses in sorted(toured.seen.items()):
        assert {str(s) for s in statuses} <= documented[operation], f"{operation} answered {statuses}"
        expected = EXPECTED_REFUSALS.get(operation)
        assert all((s == expected) if expected else 200 <= s < 300 for s in statuses), f"{operation}: {statuses}"

    # and every list pages on the wire: one row a page, the cursor to the next, the limits refused
    for path, _ in LIST_ROUTES:
        url = path.format(**toured.params[path])
        first = toured.client.get(url, params={"limit": 1})
        rows = first.body.get("data", first.body.get("items"))
        assert first.status == 200 and len(rows) == 1 and first.body["next_cursor"], f"{path}: {first.body}"
        second = toured.client.get(url, params={"limit": 1, "cursor": first.body["next_cursor"]})
        assert second.body.get("data", second.body.get("items")) != rows
        for bad, field in (({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"cursor": "%%%"}, "cursor")):
            refused = toured.client.get(url, params=bad)
            assert refused.status == 400 and refused.body["errors"][0]["field"] == field, f"{path} {bad}"
