"""The hot queries on transactions use an index, never a sequential scan, with 100,000 rows of ten
partners present (issue 14, item 6; docs/performance.md "Indexes"): a partner's transaction by id,
its pages newest first (filtered or not), staff searches by client reference, provider reference,
phone number and public id, staff filtering a status over a period, the poller's stale rows.

The plans are PostgreSQL's own (``EXPLAIN`` after ``ANALYZE``), for the querysets the code builds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from ledger.admin import search_transactions
from ledger.models import Transaction
from ledger.selectors import transaction_list
from ledger.states import Status
from mobilemoney.models import CashIn
from partners.models import Mode, Partner
from partners.services import partner_register

pytestmark = pytest.mark.django_db

ROWS = 100_000
PARTNERS = 10
# most transactions settle; a few stay in flight or unknown, as on a real day
STATUSES = ["succeeded"] * 14 + ["failed", "pending", "processing", "unknown"]


def _fill(partners: list[Partner]) -> None:
    """100,000 transactions (and their cash-ins) in two statements, then fresh planner statistics."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_transaction (public_id, partner_id, mode, kind, provider, amount_minor, fee_minor,
                currency, status, client_reference, provider_reference, failure_code, failure_message,
                needs_review, review_reason, metadata, created_at, updated_at)
            SELECT 'txn_plan' || lpad(g::text, 8, '0'), (%(partners)s::bigint[])[1 + g %% %(count)s], 'test',
                'cash_in', 'wave', 1000 + g, 0, 'XOF', (%(statuses)s::text[])[1 + g %% %(kinds)s], 'ref-' || g,
                'wave-' || g, '', '', false, '', '{}', now() - g * interval '10 seconds',
                now() - g * interval '9 seconds'
            FROM generate_series(1, %(rows)s) AS g
            """,
            {
                "partners": [p.pk for p in partners],
                "count": len(partners),
                "statuses": STATUSES,
                "kinds": len(STATUSES),
                "rows": ROWS,
            },
        )
        cursor.execute(
            """
            INSERT INTO mobilemoney_cashin (transaction_id, provider, msisdn, recipient_name, reason,
                provider_reference, poll_attempts, created_at, superseded)
            SELECT id, 'wave', '+22177' || lpad((id %% 10000000)::text, 7, '0'), '', '', '', 0, created_at, false
            FROM ledger_transaction WHERE public_id LIKE 'txn_plan%%'
            """,
            [],
        )
        cursor.execute("ANALYZE ledger_transaction")
        cursor.execute("ANALYZE mobilemoney_cashin")


@pytest.fixture
def partners() -> list[Partner]:
    rows = [partner_register(name=f"Plan {n}", scopes=["transactions.read"]) for n in range(PARTNERS)]
    _fill(rows)
    return rows


def _plan(queryset: QuerySet[Any]) -> str:
    return str(queryset.explain())


def test_the_hot_queries_on_100_000_transactions_use_an_index(partners: list[Partner]) -> None:
    partner = partners[3]
    mine = transaction_list(partner=partner, mode=Mode.TEST)
    since = timezone.now() - timedelta(days=1)
    example = Transaction.objects.filter(partner=partner).order_by("id").first()
    assert example is not None
    phone = example.cash_in.msisdn
    queries: dict[str, QuerySet[Any]] = {
        # the partner API (GET /transactions/{id}, GET /transactions pages of 50, filtered)
        "detail": mine.filter(public_id=example.public_id),
        "page": mine.order_by("-public_id")[:51],
        "page after a cursor": mine.filter(public_id__lt=example.public_id).order_by("-public_id")[:51],
        "page by status and date": mine.filter(status=Status.UNKNOWN, created_at__gte=since).order_by("-public_id")[
            :51
        ],
        "by client reference": mine.filter(client_reference="ref-1234"),
        # the back office's search box (exact: public id, client or provider reference, phone number)
        "staff search, a reference": search_transactions(Transaction.objects.all(), "wave-4321"),
        "staff search, a phone number": search_transactions(Transaction.objects.all(), phone),
        "staff search, a public id": search_transactions(Transaction.objects.all(), example.public_id),
        # the back office's filters: a status over a period, newest first
        "staff status and date": Transaction.objects.filter(status=Status.UNKNOWN, created_at__gte=since).order_by(
            "-created_at", "-id"
        )[:100],
        "staff status, newest": Transaction.objects.filter(status=Status.FAILED).order_by("-created_at", "-id")[:100],
        # the pollers: in-flight rows not touched for a while
        "stale in flight": Transaction.objects.filter(
            status__in=[Status.PROCESSING, Status.UNKNOWN], updated_at__lt=timezone.now() - timedelta(hours=1)
        ).order_by("updated_at")[:200],
    }
    plans = {name: _plan(queryset) for name, queryset in queries.items()}
    scans = {name: plan for name, plan in plans.items() if "Seq Scan on ledger_transaction" in plan}
    assert not scans, "\n\n".join(f"{name}:\n{plan}" for name, plan in scans.items())
    # a status over a period, newest first, is read in index order: no sort of thousands of rows
    for name in ("staff status and date", "staff status, newest"):
        assert "ledger_txn_status_created" in plans[name] and "Sort" not in plans[name], plans[name]
    # and the answers are the right rows (the plans are of real, working queries)
    assert queries["detail"].get().pk == example.pk
    page = list(queries["page"])
    assert len(page) == 51 and {t.partner_id for t in page} == {partner.pk}
    assert queries["staff search, a reference"].get().provider_reference == "wave-4321"
    assert queries["staff search, a phone number"].get().pk == example.pk


def _index_bytes(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [name])
        return int(cursor.fetchone()[0])


def test_single_cash_ins_add_nothing_to_the_batch_chunk_and_poll_indexes(partners: list[Partner]) -> None:
    """100,000 single cash-ins, none in a batch and none waiting for a poll: the partial indexes
    (mobilemoney/models/cash_ins.py) hold none of them, and the poller's and a chunk's queries still
    read through them."""
    for name in ("mm_cashin_poll_due", "mm_cashin_batch_items", "mm_cashin_chunk_items"):
        assert _index_bytes(name) <= 2 * 8192, name  # an empty B-tree: its metapage and root
    assert _index_bytes("mm_cashin_msisdn") > 100 * 8192  # a full one, for scale
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'mobilemoney_cashin'"
            " AND indexdef NOT LIKE '%%WHERE%%' AND (indexdef LIKE '%%(batch_id)' OR indexdef LIKE '%%(chunk_id)')"
        )
        assert cursor.fetchone()[0] == 0  # no whole-table index on either foreign key
    due = CashIn.objects.filter(next_poll_at__lte=timezone.now()).order_by("next_poll_at")[:200]
    chunk_items = CashIn.objects.filter(chunk_id=1).order_by("line")
    for queryset in (due, chunk_items):
        assert "Seq Scan on mobilemoney_cashin" not in _plan(queryset), _plan(queryset)
