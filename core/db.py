"""Fewer round trips to PostgreSQL where a path writes several rows at once (docs/performance.md).

``insert_together(a, b, c)`` writes model instances of any models in ONE statement: each
INSERT but the last becomes a data-modifying common table expression,
``WITH w0 AS (INSERT …), w1 AS (INSERT …) INSERT …``. PostgreSQL runs every part of such a
statement, each exactly once, in one snapshot, and checks constraints and fires row triggers as
for separate INSERTs; the statement succeeds or fails as a whole. The SQL of each part is
Django's own (its insert compiler: field defaults, ``auto_now_add``, JSON and date adaptation),
so nothing about a row is written by hand here.

What it does not do, and what callers must not expect: only the LAST instance gets its primary
key (the statement's ``RETURNING``; the others keep ``pk = None``), and it sends no
``pre_save``/``post_save`` signals. Use it for rows nobody reads back in the same request (a
transaction's hold, event and outbox row), the one whose id is needed last (a cash-in: its
worker is enqueued by id).

A row the others point to can be written in the same statement: compile it first with
``Prepared(row)`` (its ``auto_now``/``auto_now_add`` values are set then, so what is built from
it afterwards, an event's payload, shows the values written) and pass it as
``insert_together(…, first=prepared)``. It becomes the first expression,
``WITH w_first AS (INSERT … RETURNING id)``; every other row's foreign key to it is written as
``(SELECT id FROM w_first)``; and it gets its primary key back with the last row's.

``insert_new(rows, update=…)`` writes rows of one model that a unique constraint may already
hold (``ON CONFLICT DO NOTHING``, as ``bulk_create(ignore_conflicts=True)``) and returns the
primary keys of those it did write; an ``UPDATE`` of another row can ride in the same statement
as a common table expression (a callback delivery marked verified with its new events).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import ForeignKey, Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery, UpdateQuery


def _insert_sql(instance: Model, using: str) -> tuple[str, tuple[Any, ...]]:
    meta = instance._meta
    pk_set = instance.pk is not None
    fields = [f for f in meta.local_concrete_fields if not f.generated and (pk_set or f is not meta.auto_field)]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    return sql, tuple(params)


class Prepared:
    """A row's INSERT compiled now, to be written as the ``first`` of ``insert_together``."""

    def __init__(self, instance: Model) -> None:
        if instance.pk is not None:
            raise ValueError("Prepared takes a new row (its id comes from the statement).")
        self.instance = instance
        self.using = router.db_for_write(type(instance))
        self.sql, self.params = _insert_sql(instance, self.using)


_FIRST = "w_first"


def _pointing_at(instance: Model, target: Model) -> list[ForeignKey[Any, Any]]:
    """``instance``'s foreign keys whose related object is ``target`` (assigned, not yet saved)."""
    return [
        field
        for field in instance._meta.concrete_fields
        if isinstance(field, ForeignKey) and field.is_cached(instance) and field.get_cached_value(instance) is target
    ]


def insert_together(*instances: Model, first: Prepared | None = None) -> None:
    """INSERT ``first`` (when given) and ``instances`` (at least one) in one statement on their
    models' write database; the last instance's primary key, and ``first``'s, are set from the
    statement's ``RETURNING``."""
    if not instances:
        raise ValueError("insert_together needs at least one instance.")
    using = first.using if first is not None else router.db_for_write(type(instances[0]))
    connection = connections[using]
    pointing = {id(instance): _pointing_at(instance, first.instance) for instance in instances} if first else {}
    first_pk = (
        connection.ops.quote_name(str(first.instance._meta.pk.get_attname_column()[1])) if first is not None else ""
    )
    # quoted names from the models' own metadata only, never a value: the values stay parameters
    first_id = f"(SELECT {first_pk} FROM {_FIRST})"  # noqa: S608
    for instance in instances:
        for field in pointing.get(id(instance), []):
            setattr(instance, field.attname, RawSQL(first_id, ()))  # noqa: S611
    parts = [_insert_sql(instance, using) for instance in instances]
    last = instances[-1]
    pk_column = connection.ops.quote_name(str(last._meta.pk.get_attname_column()[1]))
    ctes = [f"w{index} AS ({sql})" for index, (sql, _) in enumerate(parts[:-1])]
    returning = f"RETURNING {pk_column}"
    params = tuple(value for _, values in parts for value in values)
    if first is not None:
        ctes.insert(0, f"{_FIRST} AS ({first.sql} RETURNING {first_pk})")
        returning += f", {first_id}"
        params = (*first.params, *params)
    statement = (f"WITH {', '.join(ctes)} " if ctes else "") + f"{parts[-1][0]} {returning}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    assert row is not None  # an INSERT … VALUES of one row returns it
    last.pk = row[0]
    done = [*instances]
    if first is not None:
        first.instance.pk = row[1]
        done.append(first.instance)
        for instance in instances:
            for field in pointing[id(instance)]:
                setattr(instance, field.name, first.instance)  # the id written, the object cached again
    for instance in done:
        instance._state.adding = False
        instance._state.db = using


def _update_sql(queryset: QuerySet[Any], values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``queryset.update(**values)``, not run (a plain filter on the model's own columns)."""
    query = queryset.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(dict(values))
    sql, params = query.get_compiler(queryset.db).as_sql()
    return sql, tuple(params)


def insert_new(
    instances: Sequence[Model], *, update: tuple[QuerySet[Any], Mapping[str, Any]] | None = None
) -> list[int]:
    """INSERT ``instances`` (one model) in ONE statement, skipping each row a unique constraint
    already holds; the primary keys of the rows written, ascending (the instances' own ``pk`` is
    not set: which ones were written is the answer).

    ``update=(queryset, values)`` runs ``queryset.update(**values)`` in the same statement, as a
    common table expression: both happen or neither does. The queryset must be a plain filter on
    its model's columns (no joins), such as ``Model.objects.filter(pk=…)``.
    """
    models = {type(instance) for instance in instances}
    if len(models) > 1:
        raise ValueError("insert_new writes rows of one model.")
    model = models.pop() if models else (update[0].model if update else None)
    if model is None:
        raise ValueError("insert_new needs rows or an update.")
    using = router.db_for_write(model)
    connection = connections[using]
    prefix, prefix_params = "", ()
    if update is not None:
        sql, prefix_params = _update_sql(update[0].using(using), update[1])
        prefix = f"WITH updated AS ({sql}) "
    if not instances:
        with connection.cursor() as cursor:
            cursor.execute(prefix + "SELECT 1", prefix_params)
        return []
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, list(instances))
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    pk_column = connection.ops.quote_name(str(meta.pk.get_attname_column()[1]))
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix}{sql} RETURNING {pk_column}", (*prefix_params, *params))
        return sorted(row[0] for row in cursor.fetchall())
