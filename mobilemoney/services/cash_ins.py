"""Single cash-ins: acceptance (one short DB transaction), processing, resolution by polling."""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.money import Money
from ledger.models import Kind, Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_flag_for_review
from mobilemoney.connectors import connection_for, connector_for
from mobilemoney.models import CashIn
from mobilemoney.providers.base import CashInRequest, MobileMoneyProvider
from mobilemoney.services import outcomes
from mobilemoney.validation import CashInInput
from partners.models import Partner

logger = logging.getLogger("mobilemoney.cash_ins")

MAX_UNAVAILABLE_ATTEMPTS = 8  # ProviderUnavailable retries before staff are asked to look


def cash_in_create(*, partner: Partner, mode: str, provider: str, data: CashInInput) -> CashIn:
    """Accept a cash-in: pending transaction + hold + event + outbox (``transaction_create``) and
    the ``CashIn`` row, in one short DB transaction; the worker is enqueued after commit.

    Raises (before anything is written) ``ServiceUnavailable`` when the provider is not
    configured, ``InsufficientFunds`` when the available balance does not cover the amount.
    """
    from mobilemoney.tasks import cash_in_process  # tasks import this module

    connection_for(provider=provider, mode=mode)  # refuse early: no connection, no acceptance
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=data.money.currency)
    with db_transaction.atomic():
        transaction = transaction_create(
            partner=partner,
            mode=mode,
            kind=Kind.CASH_IN,
            provider=provider,
            money=data.money,
            client_reference=data.client_reference,
            metadata={"msisdn": data.msisdn},
            hold_account=account,
        )
        cash_in = CashIn.objects.create(
            transaction=transaction,
            provider=provider,
            msisdn=data.msisdn,
            recipient_name=data.recipient_name,
            reason=data.reason,
        )
        db_transaction.on_commit(lambda: cash_in_process.delay(cash_in.pk))
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


def _submit(cash_in: CashIn, *, cause: str, connector: MobileMoneyProvider | None = None) -> None:
    """Call the provider's cash-in with our stable reference and apply the outcome."""
    try:
        if connector is not None:
            result = connector.cash_in(cash_in_request(cash_in))
        else:
            with connector_for(provider=cash_in.provider, mode=cash_in.transaction.mode) as built:
                result = built.cash_in(cash_in_request(cash_in))
    except ProviderRejected as exc:
        outcomes.apply_rejection(cash_in, exc, cause=cause)
    except ProviderOutcomeUnknown as exc:
        outcomes.apply_unknown(cash_in, exc, cause=cause)
    except ProviderUnavailable as exc:
        _unavailable(cash_in, exc)
    else:
        outcomes.apply_result(cash_in, result, cause=cause)


def _unavailable(cash_in: CashIn, error: ProviderUnavailable) -> None:
    """Nothing happened at the provider: try again later with the same reference (the poller
    re-drives ``processing`` rows); past the bound, staff are asked to look (still retried)."""
    logger.warning("provider unavailable", extra={"txn": cash_in.transaction.public_id, "error": error.message})
    if cash_in.poll_attempts + 1 >= MAX_UNAVAILABLE_ATTEMPTS:
        transaction_flag_for_review(transaction_pk=cash_in.transaction_id)
    outcomes.schedule_poll(cash_in)


def cash_in_process(cash_in_pk: int) -> None:
    """Worker: claim (pending → processing), call the provider, apply the outcome.
    Safe to run twice: a second run finds the claim taken and returns."""
    cash_in = cash_in_get(cash_in_pk)
    if cash_in is not None:
        cash_in_claim_and_submit(cash_in)


def cash_in_claim_and_submit(cash_in: CashIn, connector: MobileMoneyProvider | None = None) -> None:
    if not outcomes.move(cash_in.transaction, "processing", cause="worker"):
        return
    # Should the worker die from here on, the poller finds the row processing and re-drives it.
    outcomes.schedule_poll(cash_in)
    _submit(cash_in, cause="worker", connector=connector)


def cash_in_resolve(cash_in_pk: int) -> None:
    """Poller: ask the provider where a ``processing``/``unknown`` cash-in stands.

    Found → apply. Not found → submit again with the same reference (the provider guarantees
    a repeat cannot pay twice, and one that never arrived gets paid now). Never guesses a
    failure. Flags ``needs_review`` past the review age while continuing to poll.
    """
    cash_in = cash_in_get(cash_in_pk)
    if cash_in is None or cash_in.transaction.status not in outcomes.IN_FLIGHT:
        return
    outcomes.flag_if_too_old(cash_in)
    try:
        with connector_for(provider=cash_in.provider, mode=cash_in.transaction.mode) as connector:
            result = connector.cash_in_status(cash_in.transaction.public_id, cash_in.provider_reference or None)
    except (ProviderUnavailable, ProviderOutcomeUnknown) as exc:
        _unavailable(cash_in, ProviderUnavailable(exc.message))
        return
    if result is None:
        _submit(cash_in, cause="poller")
    else:
        outcomes.apply_result(cash_in, result, cause="poller")


def cash_ins_due(limit: int = 200) -> list[int]:
    """Cash-ins whose next poll is due, each pushed forward so the next beat skips them."""
    now = timezone.now()
    rows = list(
        CashIn.objects.filter(next_poll_at__lte=now, transaction__status__in=outcomes.IN_FLIGHT)
        # Items paid through a provider batch (Wave) are resolved by their batch's poll only: a
        # single payout for them would not share the batch item's idempotency.
        .exclude(chunk__provider_batch_id__gt="")
        .select_related("transaction")
        .order_by("next_poll_at")[:limit]
    )
    for cash_in in rows:
        outcomes.schedule_poll(cash_in)
    return [cash_in.pk for cash_in in rows]
