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
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.models import Model
from django.db.models.sql import InsertQuery


def _insert_sql(instance: Model, using: str) -> tuple[str, tuple[Any, ...]]:
    meta = instance._meta
    pk_set = instance.pk is not None
    fields = [f for f in meta.local_concrete_fields if not f.generated and (pk_set or f is not meta.auto_field)]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    return sql, tuple(params)


def insert_together(*instances: Model) -> None:
    """INSERT ``instances`` (at least one) in one statement on their models' write database; the
    last instance's primary key is set from the statement's ``RETURNING``."""
    if not instances:
        raise ValueError("insert_together needs at least one instance.")
    using = router.db_for_write(type(instances[0]))
    parts = [_insert_sql(instance, using) for instance in instances]
    last = instances[-1]
    connection = connections[using]
    pk_column = connection.ops.quote_name(str(last._meta.pk.get_attname_column()[1]))
    ctes = ", ".join(f"w{index} AS ({sql})" for index, (sql, _) in enumerate(parts[:-1]))
    statement = (f"WITH {ctes} " if ctes else "") + f"{parts[-1][0]} RETURNING {pk_column}"
    params = tuple(value for _, values in parts for value in values)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    assert row is not None  # an INSERT … VALUES of one row returns it
    last.pk = row[0]
    for instance in instances:
        instance._state.adding = False
        instance._state.db = using
