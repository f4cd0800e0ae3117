"""Final outcomes of many in-flight transactions applied together (docs/performance.md, P6).

``outcome_apply`` moves one transaction in about a dozen statements and one commit; a provider
batch answering for a few hundred payouts at once paid that per item, each commit holding the row
locks of the partner's, the float's and the fees' accounts. ``outcomes_apply_bulk`` applies the
common case — a succeeded or rejected outcome for an outgoing transaction in ``processing`` or
``unknown`` with its hold placed — inside the CALLER's DB transaction, with the same effects per
transaction, set-based:

1. one compare-and-set ``UPDATE`` of every row, each ``WHERE status = <the status we saw>``
   (``transaction_transition``'s rule); a row another writer moved first is not moved here, and
   is returned to the caller to apply alone (``outcome_apply`` judges it again from the truth);
2. the events and outbox rows of the moved ones, exactly those ``transaction_transition`` writes
   (one INSERT per table);
3. the holds: one ``UPDATE … WHERE status = 'placed' RETURNING`` claims the holds of the
   succeeded (captured) and of the failed (released); only what this statement moved moves
   money, so money moves once. A hold not placed or not matching amount + fee raises: the
   caller's DB transaction rolls back and nothing was written;
4. each capture is the balanced posting ``hold_capture`` writes, all of them in ONE call of the
   posting statement (``postings.postings_write``); a release lowers the account's held money by
   the sum released.

A caller applies a group in one DB transaction and, should it raise, applies the group's items one
by one (``outcome_apply`` under ``item_guard``), so an item that fails is set aside alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, ErrorCode
from core.outcomes import Outcome, OutcomeKind
from ledger import states
from ledger.models import (
    INCOMING_KINDS,
    Account,
    AccountKind,
    Hold,
    HoldStatus,
    OutboxEvent,
    Transaction,
    TransactionEvent,
)
from ledger.services.accounts import account_get_or_create_system
from ledger.services.outbox import outbox_event
from ledger.services.postings import NewPosting, postings_write
from ledger.services.transactions import transaction_observed, transaction_payload

_IN_FLIGHT = (states.Status.PROCESSING, states.Status.UNKNOWN)

# Compare-and-set per row: each row moves only from the status its caller saw.
_MOVE_SQL = """
UPDATE {table} t SET status = v.to_status, updated_at = %(now)s,
    provider_reference = coalesce(v.provider_reference, t.provider_reference),
    failure_code = coalesce(v.failure_code, t.failure_code),
    failure_message = coalesce(v.failure_message, t.failure_message)
FROM unnest(%(ids)s::bigint[], %(from)s::text[], %(to)s::text[], %(references)s::text[],
            %(codes)s::text[], %(messages)s::text[])
    AS v(id, from_status, to_status, provider_reference, failure_code, failure_message)
WHERE t.id = v.id AND t.status = v.from_status
RETURNING t.id
"""

# The holds of the moved transactions out of ``placed``, each to its own new status.
_HOLDS_SQL = """
UPDATE {table} h SET status = v.to_status, updated_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(to)s::text[]) AS v(transaction_id, to_status)
WHERE h.transaction_id = v.transaction_id AND h.status = %(placed)s
RETURNING h.transaction_id, h.account_id, h.amount_minor
"""


def bulk_applicable(transaction: Transaction, outcome: Outcome) -> bool:
    """Whether ``outcomes_apply_bulk`` takes this pair (else: ``outcome_apply``, one at a time)."""
    return (
        outcome.kind in (OutcomeKind.SUCCEEDED, OutcomeKind.REJECTED)
        and transaction.status in _IN_FLIGHT
        and transaction.kind not in INCOMING_KINDS
        and transaction.set_aside_at is None
    )


def _move_of(transaction: Transaction, outcome: Outcome) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(to_status, column changes, event detail): what ``outcome_apply`` would write for this pair."""
    detail = dict(outcome.detail)
    if outcome.kind is OutcomeKind.SUCCEEDED:
        changes = {"provider_reference": outcome.provider_reference}
        to_status = states.Status.SUCCEEDED
    else:
        if outcome.provider_code:
            detail.setdefault("provider_code", outcome.provider_code)
        changes = {
            "provider_reference": outcome.provider_reference,
            "failure_code": outcome.code or str(ErrorCode.PROVIDER_REJECTED),
            "failure_message": (outcome.message or "The provider refused the operation.")[:500],
        }
        to_status = states.Status.FAILED
    if not states.is_allowed(transaction.status, to_status):
        raise ValueError(f"{transaction.public_id}: {transaction.status} -> {to_status} is not a transition.")
    return to_status, {name: value for name, value in changes.items() if value is not None}, detail


@dataclass
class _Plan:
    transaction: Transaction
    from_status: str
    to_status: str
    changes: dict[str, Any]
    detail: dict[str, Any]


def outcomes_apply_bulk(
    pairs: Sequence[tuple[Transaction, Outcome]], *, cause: str
) -> tuple[list[Transaction], list[Transaction]]:
    """Apply each pair's outcome as ``outcome_apply`` would (see the module docstring), inside the
    caller's DB transaction: ``(moved, not_moved)``. ``not_moved`` are the transactions another
    writer changed first; nothing was written for them. Every pair must be ``bulk_applicable``.
    On any error the caller's objects are restored and the error propagates (roll back)."""
    if not connection.in_atomic_block:
        raise RuntimeError("outcomes_apply_bulk runs inside the caller's DB transaction.")
    if any(not bulk_applicable(transaction, outcome) for transaction, outcome in pairs):
        raise ValueError("outcomes_apply_bulk takes succeeded or rejected outcomes of outgoing in-flight transactions.")
    if len({transaction.pk for transaction, _ in pairs}) != len(pairs):
        raise ValueError("One outcome per transaction.")
    plans = [_Plan(t, t.status, *_move_of(t, outcome)) for t, outcome in pairs]
    before = [(p, (p.transaction.status, p.transaction.updated_at, *_columns(p.transaction))) for p in plans]
    now = timezone.now()
    try:
        moved = _move_rows(plans, now)
        _record_all(moved, states.Cause(cause))
        _settle_all(moved, now)
    except BaseException:
        for plan, (status, updated_at, *columns) in before:  # the DB rolls back; so do the caller's objects
            t = plan.transaction
            t.status, t.updated_at = status, updated_at
            t.provider_reference, t.failure_code, t.failure_message = columns
        raise
    moved_pks = {p.transaction.pk for p in moved}
    return [p.transaction for p in moved], [p.transaction for p in plans if p.transaction.pk not in moved_pks]


def transactions_claim_bulk(
    transactions: Sequence[Transaction], *, cause: str = states.Cause.WORKER
) -> tuple[list[Transaction], list[Transaction]]:
    """``transaction_claim`` of many pending transactions (pending → processing, compare-and-set
    per row, its event and outbox row; no money moves), inside the caller's DB transaction:
    ``(moved, not_moved)``. Not moved: set aside for staff, or no longer pending (another worker,
    an earlier run); their objects are given the status they have now."""
    if not connection.in_atomic_block:
        raise RuntimeError("transactions_claim_bulk runs inside the caller's DB transaction.")
    if len({t.pk for t in transactions}) != len(transactions):
        raise ValueError("One claim per transaction.")
    plans = [
        _Plan(t, t.status, states.Status.PROCESSING, {}, {})
        for t in transactions
        if t.set_aside_at is None and t.status == states.Status.PENDING
    ]
    before = [(p, (p.transaction.status, p.transaction.updated_at)) for p in plans]
    try:
        moved = _move_rows(plans, timezone.now()) if plans else []
        _record_all(moved, states.Cause(cause))
    except BaseException:
        for plan, (status, updated_at) in before:  # the DB rolls back; so do the caller's objects
            plan.transaction.status, plan.transaction.updated_at = status, updated_at
        raise
    moved_pks = {p.transaction.pk for p in moved}
    not_moved = [t for t in transactions if t.pk not in moved_pks]
    current = dict(Transaction.objects.filter(pk__in=[t.pk for t in not_moved]).values_list("pk", "status"))
    for t in not_moved:
        t.status = current.get(t.pk, t.status)
    return [p.transaction for p in moved], not_moved


def _columns(t: Transaction) -> tuple[str, str, str]:
    return t.provider_reference, t.failure_code, t.failure_message


def _move_rows(plans: list[_Plan], now: Any) -> list[_Plan]:
    params = {
        "now": now,
        "ids": [p.transaction.pk for p in plans],
        "from": [p.from_status for p in plans],
        "to": [p.to_status for p in plans],
        "references": [p.changes.get("provider_reference") for p in plans],
        "codes": [p.changes.get("failure_code") for p in plans],
        "messages": [p.changes.get("failure_message") for p in plans],
    }
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_SQL.format(table=Transaction._meta.db_table), params)
        moved_pks = {pk for (pk,) in cursor.fetchall()}
    moved = [p for p in plans if p.transaction.pk in moved_pks]
    for p in moved:
        t = p.transaction
        t.status, t.updated_at = p.to_status, now
        for name, value in p.changes.items():
            setattr(t, name, value)
    return moved


def _record_all(moved: list[_Plan], cause: states.Cause) -> None:
    """Each moved transaction's event and outbox row, as ``transactions._record`` writes them."""
    if not moved:
        return
    events = [
        TransactionEvent(
            transaction=p.transaction,
            from_status=p.from_status,
            to_status=p.to_status,
            cause=cause,
            actor={},
            detail=p.detail,
        )
        for p in moved
    ]
    outbox = [
        outbox_event(
            type=f"transaction.{p.to_status}",
            aggregate=p.transaction,
            partner=p.transaction.partner,
            mode=p.transaction.mode,
            payload=transaction_payload(p.transaction),
        )
        for p in moved
    ]
    TransactionEvent.objects.bulk_create(events)
    OutboxEvent.objects.bulk_create(outbox)
    # After the commit: counted and logged per kind of change, as transactions_create_bulk does.
    groups: dict[tuple[str, str, str, str], list[Transaction]] = defaultdict(list)
    for p in moved:
        groups[(p.transaction.kind, p.transaction.provider, p.from_status, p.to_status)].append(p.transaction)
    for (_, _, from_status, to_status), members in groups.items():
        db_transaction.on_commit(partial(_observed, members[0], from_status, to_status, cause, len(members)))


def _observed(transaction: Transaction, from_status: str, to_status: str, cause: str, count: int) -> None:
    transaction_observed(transaction, from_status=from_status, to_status=to_status, cause=cause, count=count)


def _settle_all(moved: list[_Plan], now: Any) -> None:
    """The holds of the moved transactions: captured (a posting each, ``_capture_postings``) or
    released, exactly once: only the holds this statement moved out of ``placed`` move money."""
    if not moved:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLDS_SQL.format(table=Hold._meta.db_table),
            {
                "now": now,
                "ids": [p.transaction.pk for p in moved],
                "to": [
                    HoldStatus.CAPTURED.value if p.to_status == states.Status.SUCCEEDED else HoldStatus.RELEASED.value
                    for p in moved
                ],
                "placed": HoldStatus.PLACED.value,
            },
        )
        holds = {transaction_id: (account_id, amount) for transaction_id, account_id, amount in cursor.fetchall()}
    for p in moved:
        t = p.transaction
        if t.pk not in holds:
            raise Conflict(f"The hold of {t.public_id} is not placed.")
        if holds[t.pk][1] != t.amount_minor + t.fee_minor:
            raise ValueError("The hold does not match the transaction's amount plus fee.")
    released: dict[int, int] = defaultdict(int)
    books: dict[tuple[str, str, str, str], Account] = {}
    captures: list[tuple[Transaction, list[tuple[int, int]], int, int]] = []
    for p in moved:
        t = p.transaction
        account_id, amount = holds[t.pk]
        if p.to_status != states.Status.SUCCEEDED:
            released[account_id] += amount
            continue
        book = {"mode": t.mode, "currency": t.currency}
        float_account = _system(books, kind=AccountKind.PROVIDER_FLOAT, provider=t.provider, **book)
        lines = [(account_id, -amount), (float_account.pk, t.amount_minor)]
        if t.fee_minor:
            lines.append((_system(books, kind=AccountKind.FEES, provider="", **book).pk, t.fee_minor))
        captures.append((t, lines, account_id, -amount))
    if captures:
        _capture_postings(captures, now)
    for account_id, amount in sorted(released.items()):  # releases: held money back, no entry
        Account.objects.filter(pk=account_id).update(held_minor=F("held_minor") - amount, updated_at=now)


def _capture_postings(captures: list[tuple[Transaction, list[tuple[int, int]], int, int]], now: Any) -> None:
    """``hold_capture``'s posting for each capture (lines by account id), all in one call of the
    posting statement (``postings_write``): the accounts are locked once in id order, and each
    capture leaves its partner's available balance as it was (balance and held money go down
    together), so the check of the net change is the check of each posting in turn."""
    held: dict[int, int] = defaultdict(int)
    for _, _, hold_account_id, held_delta in captures:
        held[hold_account_id] += held_delta
    postings = [NewPosting(lines, f"capture {t.public_id}", t.pk) for t, lines, _, _ in captures]
    written = postings_write(postings, held_deltas=held, now=now)
    if len(written.posting_ids) != len(captures):
        raise RuntimeError("The captures' postings were not all written.")


def _system(
    books: dict[tuple[str, str, str, str], Account], *, kind: str, provider: str, mode: str, currency: str
) -> Account:
    key = (kind, provider, mode, currency)
    if key not in books:
        books[key] = account_get_or_create_system(kind=kind, provider=provider, mode=mode, currency=currency)
    return books[key]
