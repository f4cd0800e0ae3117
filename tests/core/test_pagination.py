"""The one cursor paginator (core/api/pagination.py), on querysets and on objects in memory."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.api.pagination import CursorPaginator, decode_cursor, encode_cursor
from core.errors import ValidationFailed


@dataclass(frozen=True)
class Row:
    code: str


def test_cursors_round_trip_and_refuse_garbage() -> None:
    assert decode_cursor(encode_cursor("txn_01")) == "txn_01"
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in ("%%%", "bm90IGpzb24", encode_cursor(""), "dHJ1ZQ"):  # not base64, not JSON, empty, true
        with pytest.raises(ValidationFailed):
            decode_cursor(bad)


@pytest.mark.parametrize(("query", "expected"), [({}, (25, None)), ({"limit": "100", "cursor": "abc"}, (100, "abc"))])
def test_params_default_to_25_and_allow_100(query: dict[str, str], expected: tuple[int, str | None]) -> None:
    assert CursorPaginator().params(query) == expected


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_a_limit_outside_1_to_100_is_refused(limit: str) -> None:
    with pytest.raises(Exception) as caught:  # DRF's ValidationError, rendered as a 400 problem
        CursorPaginator().params({"limit": limit})
    assert "limit" in str(caught.value.detail)  # type: ignore[attr-defined]


@pytest.mark.parametrize("descending", [True, False])
def test_pages_of_items_in_memory_walk_every_row_once(descending: bool) -> None:
    rows = [Row(f"b{n:02}") for n in range(7)]
    paginator = CursorPaginator(key="code", descending=descending)
    seen, cursor = [], None
    while True:
        page = paginator.page_of_items(rows, limit=3, cursor=cursor)
        seen += [r.code for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted((r.code for r in rows), reverse=descending)
