"""Transactions: creation (with its hold) and every status change, with events, outbox and money.

``transaction_transition`` is the only writer of ``Transaction.status``. It is a compare-and-set:
``UPDATE … WHERE id = %s AND status IN (<the status we saw>)`` where the status we saw must be
one of the allowed sources of the target (``ledger.states``). Naming the exact status we saw,
rather than every allowed source, makes the recorded ``from_status`` true even when two writers
race (e.g. a callback moving ``processing → unknown`` while the poller moves the same row). When
no row changes, the current status is read again and the move is judged once more against it;
if it is still not allowed, ``IllegalTransition`` is raised and nothing was written.

Money follows the status in the same DB transaction (docs/architecture.md §4):
``succeeded`` captures the hold (outgoing kinds) or credits the partner (incoming kinds);
``failed | cancelled | expired`` release the hold; ``reversed`` posts the exact opposite of
everything posted for the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Model
from django.utils import timezone

from core.db import Prepared, insert_together
from core.errors import Conflict, ErrorCode, IllegalTransition
from core.logging import bound_context
from core.metrics import transactions_total
from core.money import Money
from ledger import states
from ledger.models import INCOMING_KINDS, Account, Hold, Transaction, TransactionEvent
from ledger.models.transactions import UNIQUE_CLIENT_REFERENCE
from ledger.services.holds import hold_reserve
from ledger.services.outbox import outbox_event
from ledger.services.settlement import transaction_settle
from partners.models import Partner

logger = logging.getLogger("ledger.transactions")

MAX_RACE_RETRIES = 3


def transaction_payload(transaction: Transaction) -> dict[str, Any]:
    """The transaction as events describe it (outbox payload; webhooks add the envelope)."""
    return {
        "id": transaction.public_id,
        "kind": transaction.kind,
        "provider": transaction.provider,
        "status": transaction.status,
        "amount": Money(transaction.amount_minor, transaction.currency).to_decimal_string(),
        "fee": Money(transaction.fee_minor, transaction.currency).to_decimal_string(),
        "currency": transaction.currency,
        "client_reference": transaction.client_reference,
        "provider_reference": transaction.provider_reference,
        "failure_code": transaction.failure_code or None,
        "created_at": transaction.created_at.isoformat(),
        "updated_at": transaction.updated_at.isoformat(),
    }


def check_create(
    *, partner: Partner, mode: str, kind: str, money: Money, fee: Money, hold_account: Account | None
) -> None:
    if money.minor <= 0 or fee.minor < 0 or fee.currency != money.currency:
        raise ValueError("The amount is positive, the fee not negative, both in one currency.")
    if hold_account is not None and (hold_account.partner_id, hold_account.mode, hold_account.currency) != (
        partner.pk,
        mode,
        money.currency,
    ):
        raise ValueError("The hold account must be the partner's, in the transaction's mode and currency.")
    if kind in INCOMING_KINDS:
        if hold_account is not None:
            raise ValueError("Incoming transactions hold nothing: money arrives on success.")
        if fee.minor > money.minor:
            raise ValueError("The fee of an incoming transaction cannot exceed its amount.")
    elif hold_account is None:
        raise ValueError("Outgoing transactions need the partner account to hold the money on.")


# The reserves of the current ``holds_reserved_last`` block, or None outside one.
_reserves_waiting: ContextVar[list[tuple[Account, int]] | None] = ContextVar("reserves_waiting", default=None)


@contextmanager
def holds_reserved_last() -> Iterator[None]:
    """Inside this block (itself inside ONE database transaction, ``@idempotent(one_transaction=True)``),
    ``transaction_create`` writes its rows at once but reserves the money (the account's
    conditional ``UPDATE``, the funds check) when the block ends, just before the commit.

    Why: that UPDATE locks the partner's account row until the commit, so every other acceptance
    of the partner waits for it. Taken first, the lock is held across the rest of the work
    (the other INSERTs, rendering and storing the answer); taken last, only across the commit —
    a burst of one partner's cash-ins is serialised on a much shorter section. The guarantee is
    the same: the funds check is the same statement, and a refusal (``InsufficientFunds``)
    raised here rolls back everything the block wrote, so nothing was written. Several reserves
    are taken in account order (no deadlock between two multi-account blocks).

    The contract: a failure inside the block ends the whole DB transaction. Code that catches
    a failure after ``transaction_create`` in a savepoint of its own and goes on must not run
    here: the reserve of the transaction its savepoint rolled back would still be taken.
    """
    if db_transaction.get_autocommit():
        raise RuntimeError("holds_reserved_last() runs inside a database transaction.")
    waiting: list[tuple[Account, int]] = []
    token = _reserves_waiting.set(waiting)
    try:
        yield
    finally:
        _reserves_waiting.reset(token)
    for account, amount_minor in sorted(waiting, key=lambda reserve: reserve[0].pk):
        hold_reserve(account=account, amount_minor=amount_minor)


def _reserve(*, account: Account, amount_minor: int) -> None:
    waiting = _reserves_waiting.get()
    if waiting is None:
        hold_reserve(account=account, amount_minor=amount_minor)
    else:
        waiting.append((account, amount_minor))


def transaction_create(
    *,
    partner: Partner,
    mode: str,
    kind: str,
    provider: str,
    money: Money,
    client_reference: str = "",
    metadata: dict[str, Any] | None = None,
    hold_account: Account | None = None,
    fee: Money | None = None,
    cause: str = states.Cause.API,
    actor: dict[str, Any] | None = None,
    rail_row: Callable[[Transaction], Model] | None = None,
) -> Transaction:
    """Create a ``pending`` transaction, its hold (outgoing kinds), its first event and outbox row.

    One short DB transaction of two statements (one without a hold); Django also logs the
    BEGIN and COMMIT around them (or SAVEPOINT and RELEASE inside a caller's):
      1. UPDATE ledger_account ... WHERE funds suffice - reserve amount+fee (InsufficientFunds: stop here)
      2. WITH w_first AS (INSERT ledger_transaction …  - the transaction, status pending;
                          RETURNING id),
              w0 AS (INSERT ledger_hold …),            - the hold, status placed;
              w1 AS (INSERT ledger_transactionevent …) - none -> pending, with its cause;
         INSERT ledger_outboxevent …                   - transaction.created (core.db.insert_together),
         each foreign key to the transaction written as ``(SELECT id FROM w_first)``.
    ``rail_row(transaction)``, when given, builds the rail's own row of the transaction (a cash-in)
    for statement 2 to write as well; it comes back with its id.
    No SELECT: the partner and account objects are the caller's, amounts are checked in Python.
    The funds check runs first, so a refusal costs one statement and writes nothing — except in
    a ``holds_reserved_last`` block, where it runs last and a refusal rolls the rest back.
    """
    fee = fee if fee is not None else Money.zero(money.currency)
    check_create(partner=partner, mode=mode, kind=kind, money=money, fee=fee, hold_account=hold_account)
    transaction = Transaction(
        partner=partner,
        mode=mode,
        kind=kind,
        provider=provider,
        amount_minor=money.minor,
        fee_minor=fee.minor,
        currency=money.currency,
        client_reference=client_reference,
        metadata=metadata or {},
    )
    # Inside a caller's transaction, a savepoint, so that after a duplicate client_reference the
    # existing transaction can be read to name it in the 409 and the caller's transaction stays
    # usable. In a ``holds_reserved_last`` block (the one-transaction accept) any failure ends the
    # whole transaction anyway: no savepoint (two round trips), and the 409 is made after the
    # rollback (``DuplicateReferenceFound``).
    deferred = _reserves_waiting.get() is not None
    try:
        with db_transaction.atomic(savepoint=not deferred):
            if hold_account is not None:
                _reserve(account=hold_account, amount_minor=money.minor + fee.minor)
            first = Prepared(transaction)  # written with the rows below, in their statement
            hold = (
                Hold(
                    transaction=transaction,
                    account=hold_account,
                    amount_minor=money.minor + fee.minor,
                    currency=money.currency,
                )
                if hold_account is not None
                else None
            )
            _record(
                transaction,
                from_status="",
                cause=cause,
                actor=actor,
                detail=None,
                event_type="transaction.created",
                with_row=hold,
                rail_row=rail_row(transaction) if rail_row is not None else None,
                first=first,
            )
    except IntegrityError as exc:
        if UNIQUE_CLIENT_REFERENCE not in str(exc):
            raise
        found = DuplicateReferenceFound(partner=partner, mode=mode, kind=kind, client_references=[client_reference])
        if deferred:
            raise found from None
        raise found.conflict() from None
    return transaction


class DuplicateReferenceFound(Exception):
    """A duplicate client_reference met where the DB transaction can no longer be read from:
    whoever rolled it back turns it into the 409 with ``conflict()`` (``ledger.idempotency``)."""

    def __init__(self, *, partner: Partner, mode: str, kind: str, client_references: list[str]) -> None:
        super().__init__(f"duplicate client_reference {client_references!r}")
        self.partner, self.mode, self.kind, self.client_references = partner, mode, kind, client_references

    def conflict(self) -> Conflict:
        return duplicate_reference(
            partner=self.partner, mode=self.mode, kind=self.kind, client_references=self.client_references
        )


def duplicate_reference(*, partner: Partner, mode: str, kind: str, client_references: list[str]) -> Conflict:
    """409 ``duplicate_client_reference`` naming the transaction(s) already holding the reference(s)."""
    settled_without_money = [states.Status.FAILED, states.Status.CANCELLED, states.Status.EXPIRED]
    existing = list(
        Transaction.objects.filter(partner=partner, mode=mode, kind=kind, client_reference__in=client_references)
        .exclude(status__in=settled_without_money)
        .order_by("pk")
        .values_list("client_reference", "public_id")[:100]
    )
    reference, public_id = existing[0] if existing else (client_references[0], None)
    return Conflict(
        f"A {kind} with client_reference {reference!r} already exists ({public_id}); nothing was created.",
        code=ErrorCode.DUPLICATE_CLIENT_REFERENCE,
        extra={
            "transaction_id": public_id,
            "client_reference": reference,
            "duplicates": [{"client_reference": ref, "transaction_id": txn} for ref, txn in existing],
        },
    )


def _record(
    transaction: Transaction,
    *,
    from_status: str,
    cause: str,
    actor: dict[str, Any] | None,
    detail: dict[str, Any] | None,
    event_type: str,
    with_row: Model | None = None,
    rail_row: Model | None = None,
    first: Prepared | None = None,
) -> None:
    """The change's event and outbox row (with ``with_row``, a new hold, and ``rail_row``, the
    rail's row of a new transaction, which gets its id) in one statement
    (``core.db.insert_together``): one round trip instead of up to five. ``first``: the new
    transaction itself, written first in that statement."""
    if not db_transaction.get_connection().in_atomic_block:
        raise RuntimeError("A transaction's event and outbox row are written inside the DB transaction of its change.")
    event = TransactionEvent(
        transaction=transaction,
        from_status=from_status,
        to_status=transaction.status,
        cause=states.Cause(cause),
        actor=actor or {},
        detail=detail or {},
    )
    outbox = outbox_event(
        type=event_type,
        aggregate=transaction,
        partner=transaction.partner,
        mode=transaction.mode,
        payload=transaction_payload(transaction),
    )
    insert_together(*(row for row in (with_row, event, outbox, rail_row) if row is not None), first=first)
    to_status = transaction.status  # as of this change: the object may move on before the commit
    db_transaction.on_commit(
        lambda: transaction_observed(transaction, from_status=from_status, to_status=to_status, cause=cause)
    )


def transaction_observed(
    transaction: Transaction, *, from_status: str, to_status: str, cause: str, count: int = 1
) -> None:
    """After commit: count the state change (``addon_transactions_total``) and log it with the
    transaction's public id, so every worker, poller and callback line about it can be found."""
    transactions_total.labels(transaction.kind, transaction.provider, to_status).inc(count)
    with bound_context(transaction=transaction.public_id if count == 1 else None):
        logger.info(
            "transaction %s: %s -> %s (%s)",
            transaction.public_id if count == 1 else f"{count} transactions",
            from_status or "new",
            to_status,
            cause,
        )


def _changes(
    *,
    failure_code: str | None,
    failure_message: str | None,
    provider_reference: str | None,
    needs_review: bool | None,
) -> dict[str, Any]:
    given = {
        "failure_code": failure_code,
        "failure_message": failure_message[:500] if failure_message is not None else None,
        "provider_reference": provider_reference,
        "needs_review": needs_review,
    }
    return {name: value for name, value in given.items() if value is not None}


def _move(
    transaction: Transaction, *, from_status: str, to_status: str, changes: dict[str, Any], record: dict[str, Any]
) -> bool:
    """Compare-and-set the status; on success write event, outbox row and money effect. True if moved."""
    now = timezone.now()
    new_values = {"status": to_status, "updated_at": now, **changes}
    before = {name: getattr(transaction, name) for name in new_values}
    try:
        with db_transaction.atomic():
            changed = Transaction.objects.filter(pk=transaction.pk, status__in=[from_status]).update(**new_values)
            if changed != 1:
                return False
            for name, value in new_values.items():
                setattr(transaction, name, value)
            _record(transaction, from_status=from_status, event_type=f"transaction.{to_status}", **record)
            transaction_settle(transaction=transaction, to_status=to_status)
    except BaseException:
        for name, value in before.items():  # the DB rolled back; so does the caller's object
            setattr(transaction, name, value)
        raise
    return True


def transaction_transition(
    *,
    transaction: Transaction,
    to_status: str,
    cause: str,
    detail: dict[str, Any] | None = None,
    actor: dict[str, Any] | None = None,
    failure_code: str | None = None,
    failure_message: str | None = None,
    provider_reference: str | None = None,
    needs_review: bool | None = None,
) -> Transaction:
    """Move ``transaction`` to ``to_status``: one event, one outbox row and its money effect, or nothing.

    Raises ``IllegalTransition`` (and writes nothing) when the state machine forbids the move
    from the transaction's current status in the database. Money errors of the effect (e.g.
    ``InsufficientFunds`` when reversing a credit the partner already spent) also write nothing.
    """
    record = {"cause": states.Cause(cause), "actor": actor, "detail": detail}
    changes = _changes(
        failure_code=failure_code,
        failure_message=failure_message,
        provider_reference=provider_reference,
        needs_review=needs_review,
    )
    for _ in range(MAX_RACE_RETRIES):
        from_status = transaction.status
        if states.is_allowed(from_status, to_status) and _move(
            transaction, from_status=from_status, to_status=to_status, changes=changes, record=record
        ):
            return transaction
        current = Transaction.objects.values_list("status", flat=True).get(pk=transaction.pk)
        if current == from_status:
            break  # not a race: the move is simply not allowed from where the transaction is
        transaction.status = current  # another writer moved it: judge again from the truth
    states.check(transaction.status, to_status)
    raise IllegalTransition("The transaction kept changing concurrently; try again.")
