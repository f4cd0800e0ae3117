"""Keyset pagination of the rail's lists (DESIGN.md §5: ``?limit=&cursor=``, at most 100).

The cursor is the opaque base64 of the last row's primary key; rows are listed newest first
(``-id``), so a page never repeats or skips a row while new rows arrive.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=Model)
MAX_LIMIT = 100


def page_params(query: Mapping[str, str], default_limit: int = 20) -> tuple[int, int | None]:
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("Bad list parameters.", errors=[FieldError("limit", f"1-{MAX_LIMIT}")])
    cursor = query.get("cursor")
    if not cursor:
        return limit, None
    try:
        return limit, int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("Bad list parameters.", errors=[FieldError("cursor", "not a cursor")]) from exc


def paginate(rows: QuerySet[M], *, limit: int, after_pk: int | None) -> tuple[list[M], str | None]:
    if after_pk is not None:
        rows = rows.filter(pk__lt=after_pk)
    page = list(rows.order_by("-pk")[: limit + 1])
    if len(page) <= limit:
        return page, None
    page = page[:limit]
    return page, base64.urlsafe_b64encode(str(page[-1].pk).encode()).decode()


def page_body(data: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": next_cursor is not None, "next_cursor": next_cursor}
