"""Single cash-ins: acceptance (one short DB transaction), processing, resolution by polling.

Outcomes go to the ledger through ``mobilemoney.services.outcomes`` (``outcome_apply``);
connectors are opened by ``partners.registry.connector_session`` and every call made for a
cash-in is recorded against its transaction (``calls_about``).
"""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import ProviderError, ProviderOutcomeUnknown, ProviderUnavailable
from core.money import Money
from core.tasks import enqueue_on_commit
from ledger.models import Kind, Transaction
from ledger.services import (
    account_partner_for_holds,
    calls_about,
    item_guard,
    transaction_claim,
    transaction_create,
)
from ledger.states import Cause
from mobilemoney.connectors import connection_for
from mobilemoney.models import CashIn
from mobilemoney.providers.base import CashInRequest, MobileMoneyProvider
from mobilemoney.services import outcomes
from mobilemoney.validation import CashInInput
from partners.limits import limit_allowance
from partners.models import Partner, Rail
from partners.registry import connector_session

logger = logging.getLogger("mobilemoney.cash_ins")


def cash_in_create(*, partner: Partner, mode: str, provider: str, data: CashInInput) -> CashIn:
    """Accept a cash-in: pending transaction + hold + event + outbox (``transaction_create``) and
    the ``CashIn`` row, in one short DB transaction; the worker is enqueued after commit.

    Raises (before anything is written) ``ServiceUnavailable`` when the provider is not
    configured, ``InsufficientFunds`` when the available balance does not cover the amount.
    """
    # refuse early: no connection (or a disabled one, or another currency), no acceptance
    connection_for(provider=provider, mode=mode, currency=data.money.currency)
    account = account_partner_for_holds(partner=partner, mode=mode, currency=data.money.currency)
    money = data.money
    allowance = limit_allowance(
        partner=partner, mode=mode, rail=Rail.MOBILE_MONEY, currency=money.currency, amounts=[money.minor]
    )
    # no savepoint of its own: inside the accept path's one transaction (``@idempotent``) a
    # failure rolls everything back anyway, and a savepoint costs two round trips
    with db_transaction.atomic(savepoint=False):
        allowance.consume()  # 422 limit_exceeded over the partner's daily limit (partners/limits.py)
        rows: list[CashIn] = []

        def cash_in_row(transaction: Transaction) -> CashIn:
            # written by the ledger's statement with the hold, event and outbox row (one round trip)
            rows.append(
                CashIn(
                    transaction=transaction,
                    provider=provider,
                    msisdn=data.msisdn,
                    recipient_name=data.recipient_name,
                    reason=data.reason,
                )
            )
            return rows[0]

        transaction_create(
            partner=partner,
            mode=mode,
            kind=Kind.CASH_IN,
            provider=provider,
            money=data.money,
            client_reference=data.client_reference,
            metadata={"msisdn": data.msisdn},
            hold_account=account,
            rail_row=cash_in_row,
        )
        [cash_in] = rows
        enqueue_on_commit("mobilemoney.cash_in_process", cash_in.pk)
    return cash_in


def cash_in_request(cash_in: CashIn) -> CashInRequest:
    transaction = cash_in.transaction
    return CashInRequest(
        reference=transaction.public_id,  # our stable reference: a retry can never pay twice
        msisdn=cash_in.msisdn,
        money=transaction_money(transaction),
        recipient_name=cash_in.recipient_name or None,
        reason=cash_in.reason or None,
    )


def transaction_money(transaction: Transaction) -> Money:
    return Money(transaction.amount_minor, transaction.currency)


def cash_in_get(pk: int) -> CashIn | None:
    return CashIn.objects.select_related("transaction", "transaction__partner").filter(pk=pk).first()


def cash_in_submit(cash_in: CashIn, connector: MobileMoneyProvider, *, cause: str) -> None:
    """Call the provider's cash-in with our stable reference and apply the outcome."""
    try:
        with calls_about(cash_in.transaction):
            result = connector.cash_in(cash_in_request(cash_in))
    except ProviderError as exc:
        outcomes.error_apply(cash_in, exc, cause=cause)
    else:
        outcomes.result_apply(cash_in, result, cause=cause)


def cash_in_process(cash_in_pk: int) -> None:
    """Worker: claim (pending → processing), call the provider, apply the outcome.
    Safe to run twice: a second run finds the claim taken and returns."""
    cash_in = cash_in_get(cash_in_pk)
    if cash_in is None or not cash_in_claim(cash_in):
        return
    with connector_session(connection_for(provider=cash_in.provider, mode=cash_in.transaction.mode)) as connector:
        cash_in_submit(cash_in, connector, cause=Cause.WORKER)


def cash_in_claim(cash_in: CashIn) -> bool:
    """Take the cash-in (pending → processing, a compare-and-set); False when another worker has.
    Should the worker die after the claim, the poller finds the row processing and re-drives it."""
    if not transaction_claim(transaction=cash_in.transaction):
        return False
    outcomes.schedule_poll(cash_in)
    return True


def cash_in_claim_and_submit(cash_in: CashIn, connector: MobileMoneyProvider) -> None:
    """One item of a chunk worked as a single cash-in on the chunk's connector."""
    if cash_in_claim(cash_in):
        cash_in_submit(cash_in, connector, cause=Cause.WORKER)


def cash_in_resolve(cash_in_pk: int) -> None:
    """Poller: ask the provider where a ``processing``/``unknown`` cash-in stands.

    Found → apply. Not found → submit again with the same reference (the provider guarantees
    a repeat cannot pay twice, and one that never arrived gets paid now). Never guesses a
    failure. Flags ``needs_review`` past the review age while continuing to poll. An unexpected
    error sets the cash-in aside for staff (``item_guard``): the poller skips it from then on.
    """
    cash_in = cash_in_get(cash_in_pk)
    if cash_in is None or cash_in.transaction.status not in outcomes.IN_FLIGHT or cash_in.transaction.set_aside_at:
        return
    # A missing or disabled connection is not the cash-in's fault: it fails the task, outside the guard.
    with (
        connector_session(connection_for(provider=cash_in.provider, mode=cash_in.transaction.mode)) as connector,
        item_guard(work="mobilemoney.cash_in_resolve", transaction=cash_in.transaction, item=str(cash_in.pk)),
    ):
        outcomes.flag_if_too_old(cash_in)
        _resolve(cash_in, connector)


def _resolve(cash_in: CashIn, connector: MobileMoneyProvider) -> None:
    transaction = cash_in.transaction
    try:
        with calls_about(transaction):
            result = connector.cash_in_status(transaction.public_id, cash_in.provider_reference or None)
    except (ProviderUnavailable, ProviderOutcomeUnknown) as exc:  # a read: nothing moved either way
        outcomes.error_apply(cash_in, ProviderUnavailable(exc.message), cause=Cause.POLLER)
        return
    if result is None:
        cash_in_submit(cash_in, connector, cause=Cause.POLLER)
    else:
        outcomes.result_apply(cash_in, result, cause=Cause.POLLER)


def cash_ins_due(limit: int = 200) -> list[int]:
    """Cash-ins whose next poll is due, each pushed forward so the next beat skips them.
    Cash-ins set aside for staff are never due: they would only fail again."""
    now = timezone.now()
    rows = list(
        CashIn.objects.filter(
            next_poll_at__lte=now, transaction__status__in=outcomes.IN_FLIGHT, transaction__set_aside_at__isnull=True
        )
        # Items paid through a provider batch (Wave) are resolved by their batch's poll only: a
        # single payout for them would not share the batch item's idempotency.
        .exclude(chunk__provider_batch_id__gt="")
        .select_related("transaction")
        .order_by("next_poll_at")[:limit]
    )
    for cash_in in rows:
        outcomes.schedule_poll(cash_in)
    return [cash_in.pk for cash_in in rows]
