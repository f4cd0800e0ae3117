"""Writing many rows of one model at once with PostgreSQL's COPY (psycopg 3 ``cursor.copy()``).

``bulk_create`` of 10,000 rows builds a model instance per row and has Django prepare every value
(``prepare_value``) and psycopg adapt them as arrays: most of a batch intake's time
(docs/performance.md, P5). COPY takes plain tuples streamed from the caller, so nothing per row
is held in memory. It fires the table's row triggers and checks its constraints like an INSERT;
a violation is raised as Django's ``IntegrityError`` when the copy ends.

The helpers are plumbing, not a door: which app may write which table is still decided by the
apps (only ``ledger/`` writes transactions, events and outbox rows, docs/conventions.md §35).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

Converter = Callable[[Any], Any]


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` primary keys taken from the table's sequence, ascending, so that rows of other
    tables written in the same batch can point at rows not yet copied."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(nextval(pg_get_serial_sequence(%s, %s))) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return sorted(cursor.fetchone()[0])


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column.")
    return field


def _converter(field: models.Field) -> Converter | None:
    """How a Python value becomes COPY text for ``field`` (None: psycopg's own dumper does it)."""
    if isinstance(field, models.JSONField):
        # json.dumps(value, cls=encoder), as the PostgreSQL backend adapts a JSONField, with ONE encoder
        return (field.encoder or json.JSONEncoder)().encode
    return None


def _constant(field: models.Field, now: Any) -> Any:
    """The value of a column the caller leaves out: the field's default, computed ONCE for the
    whole copy — so a unique field (a public id) must be given row by row."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.unique:
        raise ValueError(f"{field} is unique: give it row by row.")
    if field.has_default():
        value = field.get_default()
    elif field.null:
        return None
    else:
        raise ValueError(f"{field} has no default: give it row by row.")
    convert = _converter(field)
    return convert(value) if convert else value


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (values of ``columns``, field names or attnames, in that order) into the table
    of ``model``. Every other concrete field gets its default (auto_now: one timestamp for the
    copy); an auto primary key left out is the table's own default. Inside the caller's DB
    transaction."""
    given = [_concrete_field(model, name) for name in columns]
    given_names = {field.attname for field in given}
    now = timezone.now()
    rest = [
        field
        for field in model._meta.concrete_fields
        if field.attname not in given_names and not (field.primary_key and isinstance(field, AutoFieldMixin))
    ]
    constants = tuple(_constant(field, now) for field in rest)
    converters = [_converter(field) for field in given]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in [*given, *rest])
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        if any(converters):
            for row in rows:
                pairs = zip(row, converters, strict=True)
                values = [value if convert is None else convert(value) for value, convert in pairs]
                copy.write_row([*values, *constants])
        else:
            for row in rows:
                copy.write_row((*row, *constants))
