"""Reads of the ledger: balances, transactions with their history, and the books' self-check."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce

from ledger.models import (
    Account,
    Hold,
    HoldStatus,
    LedgerEntry,
    OutboxEvent,
    ProviderCall,
    Transaction,
    TransactionEvent,
)
from partners.models import Partner


def transaction_list(*, partner: Partner, mode: str) -> QuerySet[Transaction]:
    """The partner's transactions in ``mode``, newest first (filters are applied by the caller).

    Without their partner: the caller has it, and joining it built a second model instance per
    row (half of a 50-row page's time, docs/performance.md §3); ``.partner`` would cost a query.
    """
    return Transaction.objects.filter(partner=partner, mode=mode)


# GET /transactions/{id} is the partners' most frequent read: its SQL is written once, here, rather
# than compiled by the ORM on every request (a subquery's compilation cost more than the query).
# The events' fields are those of ``ledger.serializers.event_representation``.
_TRANSACTION_WITH_EVENTS = """
SELECT t.*,
       COALESCE((SELECT json_agg(json_build_object('from_status', e.from_status, 'to_status', e.to_status,
                                                   'cause', e.cause, 'detail', e.detail,
                                                   'created_at', e.created_at) ORDER BY e.created_at, e.id)
                 FROM ledger_transactionevent e WHERE e.transaction_id = t.id), '[]') AS event_rows
FROM ledger_transaction t
WHERE t.partner_id = %s AND t.mode = %s AND t.public_id = %s
"""


def transaction_get(*, partner: Partner, mode: str, public_id: str) -> Transaction | None:
    """One transaction of the partner with its events, in one query (None when not theirs): the
    events come as ``event_rows``, a list of dicts in order, aggregated by PostgreSQL
    (``ledger.serializers.transaction_representation`` reads them)."""
    rows = list(Transaction.objects.raw(_TRANSACTION_WITH_EVENTS, [partner.pk, mode, public_id]))
    return rows[0] if rows else None


def account_list_for_partner(*, partner: Partner, mode: str) -> QuerySet[Account]:
    return Account.objects.filter(partner=partner, mode=mode).order_by("currency")


@dataclass(frozen=True)
class LedgerCheck:
    """What ``ledger_check`` verified and what it found wrong (empty ``problems`` = healthy)."""

    postings: int
    entries: int
    accounts: int
    problems: list[str]

    @property
    def is_ok(self) -> bool:
        return not self.problems


def _unbalanced() -> list[str]:
    per_posting = (
        LedgerEntry.objects.values("posting_id", "currency").annotate(total=Sum("amount_minor")).exclude(total=0)
    )
    overall = LedgerEntry.objects.values("currency").annotate(total=Sum("amount_minor")).exclude(total=0)
    return [
        *(f"posting {row['posting_id']} sums to {row['total']} {row['currency']}" for row in per_posting),
        *(f"all entries in {row['currency']} sum to {row['total']}" for row in overall),
    ]


def _account_mismatches() -> list[str]:
    sums = Account.objects.annotate(
        entries_total=Coalesce(Sum("entries__amount_minor"), 0),
    ).exclude(balance_minor=F("entries_total"))
    held = Account.objects.annotate(
        placed=Coalesce(Sum("holds__amount_minor", filter=Q(holds__status=HoldStatus.PLACED)), 0),
    ).exclude(held_minor=F("placed"))
    foreign = LedgerEntry.objects.exclude(currency=F("account__currency")).values_list("pk", flat=True)
    return [
        *(f"account {a.public_id} balance {a.balance_minor} != sum of entries {a.entries_total}" for a in sums),
        *(f"account {a.public_id} held {a.held_minor} != placed holds {a.placed}" for a in held),
        *(f"entry {pk} is not in its account's currency" for pk in foreign),
    ]


def _running_balance_breaks() -> list[str]:
    """Each entry's balance_after must be the running sum of its account's entries (tamper check)."""
    running = LedgerEntry.objects.annotate(
        running=Window(Sum("amount_minor"), partition_by=[F("account_id")], order_by=F("id").asc())
    )
    broken = running.filter(~Q(running=F("balance_after_minor"))).values_list("pk", "balance_after_minor", "running")
    return [f"entry {pk} balance_after {after} != running sum {total}" for pk, after, total in broken]


def ledger_check() -> LedgerCheck:
    """Verify the books: every posting and every currency sums to zero, and every account's
    balance equals the sum of its entries (and its held money the sum of its placed holds)."""
    problems = [*_unbalanced(), *_account_mismatches(), *_running_balance_breaks()]
    return LedgerCheck(
        postings=LedgerEntry.objects.values("posting_id").distinct().count(),
        entries=LedgerEntry.objects.count(),
        accounts=Account.objects.count(),
        problems=problems,
    )


def hold_for(transaction: Transaction) -> Hold | None:
    return Hold.objects.filter(transaction=transaction).select_related("account").first()


@dataclass(frozen=True)
class TimelineRows:
    """The ledger's rows about one transaction, each list in the order it was written."""

    events: list[TransactionEvent]
    entries: list[LedgerEntry]
    hold: Hold | None
    calls: list[ProviderCall]
    outbox: list[OutboxEvent]


def transaction_timeline_rows(transaction: Transaction) -> TimelineRows:
    """Events, entries (with their accounts), the hold, provider calls and outbox rows of
    ``transaction``: five indexed queries whatever its history (the admin's timeline)."""
    return TimelineRows(
        events=list(transaction.events.order_by("id")),
        entries=list(
            LedgerEntry.objects.filter(transaction=transaction).select_related("account__partner").order_by("id")
        ),
        hold=Hold.objects.filter(transaction=transaction).first(),
        calls=list(ProviderCall.objects.filter(transaction=transaction).order_by("started_at", "id")),
        outbox=list(
            OutboxEvent.objects.filter(aggregate_type="transaction", aggregate_id=transaction.public_id).order_by("id")
        ),
    )
