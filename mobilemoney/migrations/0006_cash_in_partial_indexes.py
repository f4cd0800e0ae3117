"""A cash-in's poll, batch and chunk indexes only where those are set (docs/performance.md §4).

A single cash-in has no batch, no chunk and, once final, no next poll: it added an entry to five
indexes that no query reads (the (batch, line) index, two foreign-key indexes, the poll index).
The new partial indexes are built CONCURRENTLY before the old ones are dropped CONCURRENTLY, so
acceptances are never blocked; the foreign keys' own indexes (Django's generated names) go the
same way, the (batch, line) index serving "the batch's items".
"""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0007_transaction_status_created_index"),
        ("mobilemoney", "0005_console_labels"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="cashin",
            index=models.Index(
                condition=models.Q(("next_poll_at__isnull", False)), fields=["next_poll_at"], name="mm_cashin_poll_due"
            ),
        ),
        AddIndexConcurrently(
            model_name="cashin",
            index=models.Index(
                condition=models.Q(("batch__isnull", False)), fields=["batch", "line"], name="mm_cashin_batch_items"
            ),
        ),
        AddIndexConcurrently(
            model_name="cashin",
            index=models.Index(
                condition=models.Q(("chunk__isnull", False)), fields=["chunk"], name="mm_cashin_chunk_items"
            ),
        ),
        RemoveIndexConcurrently(model_name="cashin", name="mm_cashin_next_poll"),
        RemoveIndexConcurrently(model_name="cashin", name="mm_cashin_batch_line"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="cashin",
                    name="batch",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="mobilemoney.cashinbatch",
                    ),
                ),
                migrations.AlterField(
                    model_name="cashin",
                    name="chunk",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="mobilemoney.batchchunk",
                    ),
                ),
            ],
            database_operations=[
                # the names Django gave the foreign keys' indexes (0001_initial, 0003)
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS mobilemoney_cashin_batch_id_3462968d",
                    reverse_sql="CREATE INDEX CONCURRENTLY IF NOT EXISTS mobilemoney_cashin_batch_id_3462968d"
                    " ON mobilemoney_cashin (batch_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS mobilemoney_cashin_chunk_id_1d591d2c",
                    reverse_sql="CREATE INDEX CONCURRENTLY IF NOT EXISTS mobilemoney_cashin_chunk_id_1d591d2c"
                    " ON mobilemoney_cashin (chunk_id)",
                ),
            ],
        ),
    ]
