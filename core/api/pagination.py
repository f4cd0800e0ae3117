"""Cursor pagination on a unique, time-sortable key (our public ids sort by creation time).

``?limit=&cursor=``: newest first, at most 100 a page. The cursor is opaque to partners (the
last key of the page, base64url-encoded) and stable under inserts, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=Model)
MAX_LIMIT = 100
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,120}$")


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not _KEY_RE.match(key):
        errors = [FieldError("cursor", "Not a valid cursor.")]
        raise ValidationFailed("The cursor is not valid.", errors=errors)
    return key


def paginate(
    queryset: QuerySet[M], *, key_field: str = "public_id", limit: int, cursor: str | None
) -> tuple[Sequence[M], str | None]:
    """One page, newest first, and the cursor of the next page (None on the last page)."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = queryset.order_by(f"-{key_field}")
    if cursor:
        rows = rows.filter(**{f"{key_field}__lt": decode_cursor(cursor)})
    page = list(rows[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    next_cursor = encode_cursor(str(getattr(page[-1], key_field))) if has_more and page else None
    return page, next_cursor


def page_body(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": next_cursor is not None, "next_cursor": next_cursor}
