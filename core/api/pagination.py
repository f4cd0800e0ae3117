"""The one paginator of the partner API: cursor pages on a unique, ordered key.

``?limit=&cursor=``: 25 rows by default, at most 100 (a limit outside 1 to 100 or a cursor that is
not ours is a 400 problem naming the field). The cursor is opaque to partners (the last key of
the page, base64url-encoded JSON) and stable under inserts, unlike offsets. Every list endpoint
declares its ``paginator = CursorPaginator(key=…)`` and reads its parameters with
``PageQuerySerializer`` (or a serializer derived from it, adding the list's filters).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from rest_framework import serializers

from core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=Model)
T = TypeVar("T")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200


class PageQuerySerializer(serializers.Serializer):
    """``?limit=&cursor=`` of every list."""

    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    cursor = serializers.CharField(required=False, max_length=MAX_CURSOR_LENGTH)


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = None
    if isinstance(key, bool) or not isinstance(key, str | int) or (isinstance(key, str) and not key):
        raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Not a valid cursor.")])
    return key


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    next_cursor: str | None

    def body(self, items: list[Any], **extra: Any) -> dict[str, Any]:
        """The list envelope every list answers with."""
        return {
            "object": "list",
            "data": items,
            "has_more": self.next_cursor is not None,
            "next_cursor": self.next_cursor,
            **extra,
        }


@dataclass(frozen=True)
class CursorPaginator:
    """Pages of a queryset ordered by ``key`` (unique), newest first unless ``descending=False``."""

    key: str = "public_id"
    descending: bool = True
    default_limit: int = DEFAULT_LIMIT
    max_limit: int = MAX_LIMIT

    def params(self, query: Mapping[str, Any]) -> tuple[int, str | None]:
        """(limit, cursor) of a request's query string, checked (400 problem otherwise)."""
        serializer = PageQuerySerializer(data={k: query[k] for k in ("limit", "cursor") if k in query})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["limit"], serializer.validated_data.get("cursor")

    def page(self, queryset: QuerySet[M], *, limit: int, cursor: str | None) -> Page[M]:
        limit = max(1, min(limit, self.max_limit))
        rows = queryset.order_by(f"-{self.key}" if self.descending else self.key)
        if cursor:
            after = decode_cursor(cursor)
            rows = rows.filter(**{f"{self.key}__{'lt' if self.descending else 'gt'}": after})
        fetched = list(rows[: limit + 1])
        page = fetched[:limit]
        has_more = len(fetched) > limit and bool(page)
        return Page(page, encode_cursor(_key_value(page[-1], self.key)) if has_more else None)

    def page_of_items(self, items: Sequence[T], *, limit: int, cursor: str | None) -> Page[T]:
        """The same page over objects already in memory (a provider's cached catalogue)."""
        limit = max(1, min(limit, self.max_limit))
        rows = sorted(items, key=lambda item: _key_value(item, self.key), reverse=self.descending)
        if cursor:
            after = decode_cursor(cursor)
            rows = [
                r
                for r in rows
                if (_key_value(r, self.key) < after) == self.descending and _key_value(r, self.key) != after
            ]
        page = rows[:limit]
        return Page(page, encode_cursor(_key_value(page[-1], self.key)) if len(rows) > limit and page else None)

    def page_of(self, queryset: QuerySet[M], query: Mapping[str, Any]) -> Page[M]:
        limit, cursor = self.params(query)
        return self.page(queryset, limit=limit, cursor=cursor)


def _key_value(row: Any, key: str) -> Any:
    value = getattr(row, "pk" if key == "pk" else key)
    return value if isinstance(value, int) else str(value)


def _is_after(value: Any, cursor_key: Any, *, descending: bool) -> bool:
    """Whether a row with key ``value`` comes after the cursor's row in the page order."""
    return bool(value < cursor_key) if descending else bool(value > cursor_key)


def page_serializer(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The OpenAPI description of a list answer: ``{"object": "list", "data": [item…], "has_more",
    "next_cursor"}`` (``Page.body``); ``name`` is the schema component's class name."""
    fields = {
        "object": serializers.CharField(default="list"),
        "data": item(many=True),
        "has_more": serializers.BooleanField(),
        "next_cursor": serializers.CharField(allow_null=True),
        "__doc__": f"A page of {item.__name__.removesuffix('Serializer')} rows; next_cursor fetches the next page.",
        "__module__": item.__module__,
    }
    return type(name, (serializers.Serializer,), fields)
