"""Staff filter a status over a period, newest first: an index in that order (docs/performance.md).

Built CONCURRENTLY: on a national gateway's transaction table a plain CREATE INDEX would block
every acceptance for as long as it takes.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0006_transaction_field_labels"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="transaction",
            index=models.Index(fields=["status", "-created_at", "-id"], name="ledger_txn_status_created"),
        ),
    ]
