"""Ledger entries lose their single-column index on ``account_id`` (docs/performance.md, P3).

Entries had two indexes led by ``account_id``: the foreign key's own and ``ledger_entry_account_id``
``(account_id, id)``. The second serves every query the first could (an account's entries, its
last entry before a date, the check of a deleted account's references), so every posting paid
one index insertion per entry for nothing. Dropped ``CONCURRENTLY``: on a national gateway's
ledger a plain DROP INDEX would wait for, then block, every posting while it waits for its lock.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "ledger_ledgerentry_account_id_6e45a426"  # the name Django gave the foreign key's index


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0008_ledger_post_function")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="ledger.account",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX};",
                    reverse_sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON ledger_ledgerentry (account_id);",
                ),
            ],
        ),
    ]
