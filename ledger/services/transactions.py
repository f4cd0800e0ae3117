"""Transactions: creation (with its hold) and every status change, with events, outbox and money.

``transaction_transition`` is the only writer of ``Transaction.status``. It is a compare-and-set:
``UPDATE … WHERE id = %s AND status IN (<the status we saw>)`` where the status we saw must be
one of the allowed sources of the target (``ledger.states``). Naming the exact status we saw,
rather than every allowed source, makes the recorded ``from_status`` true even when two writers
race (e.g. a callback moving ``processing → unknown`` while the poller moves the same row). When
no row changes, the current status is read again and the move is judged once more against it;
if it is still not allowed, ``IllegalTransition`` is raised and nothing was written.

Money follows the status in the same DB transaction (DESIGN.md §4):
``succeeded`` captures the hold (outgoing kinds) or credits the partner (incoming kinds);
``failed | cancelled | expired`` release the hold; ``reversed`` posts the exact opposite of
everything posted for the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import IllegalTransition
from core.metrics import transactions_total
from core.money import Money
from ledger import states
from ledger.models import INCOMING_KINDS, Account, Hold, Transaction, TransactionEvent
from ledger.services.holds import hold_reserve
from ledger.services.outbox import outbox_record
from ledger.services.settlement import transaction_settle
from partners.models import Partner

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


def _check_create(
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
) -> Transaction:
    """Create a ``pending`` transaction, its hold (outgoing kinds), its first event and outbox row.

    One short DB transaction of five statements when a hold is placed (four without); Django
    also logs the BEGIN and COMMIT around them (or SAVEPOINT and RELEASE inside a caller's):
      1. UPDATE ledger_account ... WHERE funds suffice - reserve amount+fee (InsufficientFunds: stop here)
      2. INSERT ledger_transaction                     - the transaction, status pending
      3. INSERT ledger_hold                            - the hold, status placed
      4. INSERT ledger_transactionevent                - none -> pending, with its cause
      5. INSERT ledger_outboxevent                     - transaction.created
    No SELECT: the partner and account objects are the caller's, amounts are checked in Python.
    The funds check runs first, so a refusal costs one statement and writes nothing.
    """
    fee = fee if fee is not None else Money.zero(money.currency)
    _check_create(partner=partner, mode=mode, kind=kind, money=money, fee=fee, hold_account=hold_account)
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
    with db_transaction.atomic():
        if hold_account is not None:
            hold_reserve(account=hold_account, amount_minor=money.minor + fee.minor)
        transaction.save(force_insert=True)
        if hold_account is not None:
            Hold.objects.create(
                transaction=transaction,
                account=hold_account,
                amount_minor=money.minor + fee.minor,
                currency=money.currency,
            )
        _record(transaction, from_status="", cause=cause, actor=actor, detail=None, event_type="transaction.created")
    return transaction


def _record(
    transaction: Transaction,
    *,
    from_status: str,
    cause: str,
    actor: dict[str, Any] | None,
    detail: dict[str, Any] | None,
    event_type: str,
) -> None:
    TransactionEvent.objects.create(
        transaction=transaction,
        from_status=from_status,
        to_status=transaction.status,
        cause=states.Cause(cause),
        actor=actor or {},
        detail=detail or {},
    )
    outbox_record(
        type=event_type,
        aggregate=transaction,
        partner=transaction.partner,
        mode=transaction.mode,
        payload=transaction_payload(transaction),
    )
    # counted once committed: the per-provider success rate and its alerts read this counter
    labels = (str(transaction.kind), transaction.provider, str(transaction.status))
    db_transaction.on_commit(lambda: transactions_total.labels(*labels).inc())


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


def transaction_flag_for_review(*, transaction_pk: int, only_statuses: Iterable[str] | None = None) -> bool:
    """Ask staff to look at a transaction (unresolved too long, retries exhausted…).

    A flag, not a status change: no event, no money moves, pollers keep working. With
    ``only_statuses`` the flag is set only while the transaction is in one of them. Returns
    whether a row was flagged now.
    """
    rows = Transaction.objects.filter(pk=transaction_pk, needs_review=False)
    if only_statuses is not None:
        rows = rows.filter(status__in=list(only_statuses))
    return rows.update(needs_review=True) == 1
