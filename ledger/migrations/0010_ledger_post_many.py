"""``ledger_post`` writes one posting or several in its one statement (docs/performance.md, P3, P6).

A provider batch's answer captures up to a hundred holds at once (``outcomes_apply_bulk``); its
postings were one statement of their own, a copy of the posting statement over several postings,
planned at every call. Now there is one statement for both, the function below: its postings
come as arrays (transaction and description of each) and every line names its posting by
position. The accounts are locked once, in id order; the funds check is that of each account's
net change over all the postings of the call (a caller that passes several checks that this is
the check it needs: a capture leaves the partner's available balance as it was); each posting's
id is taken from the sequence before it is written, so its lines find it; entries are written in
line order, each with its account's running balance. One posting is the same statement with
arrays of one, and the same rows as before.
"""

from importlib import import_module

from django.db import migrations

FUNCTION = """
CREATE FUNCTION ledger_post(
    p_account_ids bigint[], p_deltas bigint[], p_held_deltas bigint[], p_partner_kind text, p_now timestamptz,
    p_posting_transactions bigint[], p_posting_descriptions text[],
    p_line_postings bigint[], p_line_accounts bigint[], p_line_amounts bigint[]
) RETURNS TABLE (
    r_found boolean, r_covered boolean, r_posting_ids bigint[],
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
    ), numbered AS (
        SELECT p.n, nextval(pg_get_serial_sequence('ledger_posting', 'id')) AS id, p.transaction_id, p.description
        FROM unnest(p_posting_transactions, p_posting_descriptions) WITH ORDINALITY AS p(transaction_id, description, n)
        CROSS JOIN verdict v WHERE v.all_found AND v.all_covered
    ), posting AS (
        INSERT INTO ledger_posting (id, transaction_id, description, created_at)
        SELECT nb.id, nb.transaction_id, nb.description, p_now FROM numbered nb ORDER BY nb.n
    ), entries AS (
        INSERT INTO ledger_ledgerentry
            (posting_id, account_id, transaction_id, amount_minor, currency, balance_after_minor, created_at)
        SELECT nb.id, x.account_id, nb.transaction_id, x.amount_minor, l.currency,
               l.balance_minor + sum(x.amount_minor) OVER (PARTITION BY x.account_id ORDER BY x.n), p_now
        FROM unnest(p_line_postings, p_line_accounts, p_line_amounts) WITH ORDINALITY
            AS x(posting_n, account_id, amount_minor, n)
        JOIN numbered nb ON nb.n = x.posting_n
        JOIN locked l ON l.id = x.account_id
        ORDER BY x.n
    )
    SELECT v.all_found, v.all_covered, (SELECT array_agg(nb.id ORDER BY nb.n) FROM numbered nb),
           m.id, m.balance_minor, m.held_minor
    FROM verdict v LEFT JOIN moved m ON TRUE;
END;
$$;
"""

SIGNATURE = "bigint[], bigint[], bigint[], text, timestamptz, bigint[], text[], bigint[], bigint[], bigint[]"

_previous = import_module("ledger.migrations.0008_ledger_post_function")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_ledger_entry_account_single_index_dropped")]

    operations = [
        migrations.RunSQL(
            [_previous.DROP, FUNCTION],
            reverse_sql=[f"DROP FUNCTION IF EXISTS ledger_post({SIGNATURE});", _previous.FUNCTION],
        )
    ]
