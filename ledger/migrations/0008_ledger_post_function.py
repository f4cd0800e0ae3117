"""A posting's statement as a database function whose plan is kept (docs/performance.md, P3).

``post_lines`` (ledger/services/postings.py) sent the same large statement (six CTEs) as text on
every posting, and PostgreSQL parsed, analysed and planned it every time: half of the backend's
CPU per posting (planning alone about 0.2 ms of the 0.75 ms). A PL/pgSQL function prepares the
statement once per database session and keeps its plan. The parameters are arrays whose length
only the call knows, so PostgreSQL's default choice keeps re-planning (a custom plan per call
looks cheaper than the generic one); ``plan_cache_mode = force_generic_plan`` for this function
only keeps the one generic plan (index scans on the accounts' primary key, the row locks taken
above a sort by id). The setting is the function's own: it is restored when the function returns
and changes nothing else in the session. No session state either (no PREPARE), so a connection
pooler in transaction mode would not break it.

The statement is the one ``post_lines`` sent (same CTEs, same order of locks, checks and writes),
with the parameters as the function's arguments and the verdict's columns named so that they
cannot be taken for PL/pgSQL variables (``#variable_conflict`` stays ``error``).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_post(
    p_account_ids bigint[], p_deltas bigint[], p_held_deltas bigint[], p_partner_kind text,
    p_transaction_id bigint, p_now timestamptz, p_description text,
    p_line_accounts bigint[], p_line_amounts bigint[]
) RETURNS TABLE (
    r_found boolean, r_covered boolean, r_posting_id bigint,
    r_account_id bigint, r_balance_minor bigint, r_held_minor bigint
)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    WITH change AS (
        SELECT * FROM unnest(p_account_ids, p_deltas, p_held_deltas) AS c(id, delta, held_delta)
    ), locked AS (
        SELECT id, kind, currency, balance_minor, held_minor, overdraft_limit_minor
        FROM ledger_account WHERE id IN (SELECT id FROM change) ORDER BY id FOR UPDATE
    ), verdict AS (
        SELECT count(*) = (SELECT count(*) FROM change) AS all_found,
               coalesce(bool_and(l.kind <> p_partner_kind OR c.delta >= 0
                   OR l.balance_minor + c.delta - (l.held_minor + c.held_delta) >= -l.overdraft_limit_minor), TRUE)
               AS all_covered
        FROM locked l JOIN change c USING (id)
    ), moved AS (
        UPDATE ledger_account a
        SET balance_minor = a.balance_minor + c.delta, held_minor = a.held_minor + c.held_delta, updated_at = p_now
        FROM change c, verdict v WHERE a.id = c.id AND v.all_found AND v.all_covered
        RETURNING a.id, a.balance_minor, a.held_minor
    ), posting AS (
        INSERT INTO ledger_posting (transaction_id, description, created_at)
        SELECT p_transaction_id, p_description, p_now FROM verdict WHERE all_found AND all_covered
        RETURNING id, transaction_id, created_at
    ), entries AS (
        INSERT INTO ledger_ledgerentry
            (posting_id, account_id, transaction_id, amount_minor, currency, balance_after_minor, created_at)
        SELECT p.id, x.account_id, p.transaction_id, x.amount_minor, l.currency,
               l.balance_minor + sum(x.amount_minor) OVER (PARTITION BY x.account_id ORDER BY x.n), p.created_at
        FROM posting p
        CROSS JOIN unnest(p_line_accounts, p_line_amounts) WITH ORDINALITY AS x(account_id, amount_minor, n)
        JOIN locked l ON l.id = x.account_id
        ORDER BY x.n
    )
    SELECT v.all_found, v.all_covered, (SELECT id FROM posting), m.id, m.balance_minor, m.held_minor
    FROM verdict v LEFT JOIN moved m ON TRUE;
END;
$$;
"""

SIGNATURE = "bigint[], bigint[], bigint[], text, bigint, timestamptz, text, bigint[], bigint[]"
DROP = f"DROP FUNCTION IF EXISTS ledger_post({SIGNATURE});"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_transaction_status_created_index")]

    operations = [migrations.RunSQL(FUNCTION, reverse_sql=DROP)]
