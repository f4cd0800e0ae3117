"""The database itself refuses UPDATE and DELETE on ledger entries and transaction events.

Append-only is a property auditors can check in the schema, not a promise of the code: even a
raw SQL session or a bug cannot rewrite history. TRUNCATE is a table-level statement that row
triggers do not see; it stays possible for test teardown and is a privilege operators withhold
from the application role in production.
"""

from django.db import migrations

TABLES = ("ledger_ledgerentry", "ledger_transactionevent")

FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def trigger_sql(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION IF EXISTS ledger_refuse_change();"),
        *[
            migrations.RunSQL(trigger_sql(table), reverse_sql=f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            for table in TABLES
        ],
    ]
