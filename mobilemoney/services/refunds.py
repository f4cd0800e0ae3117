"""Refund of a paid checkout session: a ``refund`` transaction held on the partner account,
sent to the provider by a worker (the provider's refund is idempotent per session)."""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction

from core.errors import BusinessRuleViolation, ProviderError, ProviderRejected
from core.money import Money
from core.outcomes import Outcome
from core.tasks import enqueue_on_commit
from ledger.models import Kind, Transaction
from ledger.services import (
    account_get_or_create_partner_account,
    calls_about,
    outcome_apply,
    transaction_claim,
    transaction_create,
)
from ledger.states import Cause, Status
from mobilemoney.connectors import connection_for
from mobilemoney.models import CheckoutSession
from partners.registry import connector_session

logger = logging.getLogger("mobilemoney.refunds")


def checkout_refund_request(session: CheckoutSession) -> CheckoutSession:
    """Accept a full refund (422 unless the session was paid and never refunded; 422
    ``insufficient_funds`` when the partner's available balance no longer covers it)."""
    account = account_get_or_create_partner_account(partner=session.partner, mode=session.mode, currency="XOF")
    with db_transaction.atomic():
        locked = CheckoutSession.objects.select_for_update().select_related("transaction").get(pk=session.pk)
        if locked.transaction.status != Status.SUCCEEDED or locked.refund_transaction_id is not None:
            raise BusinessRuleViolation("Only a paid session that was never refunded can be refunded.")
        paid = locked.transaction
        locked.refund_transaction = transaction_create(
            partner=session.partner,
            mode=session.mode,
            kind=Kind.REFUND,
            provider=session.provider,
            money=Money(paid.amount_minor, paid.currency),
            client_reference=session.client_reference,
            metadata={"checkout_session": session.public_id, "refunds": paid.public_id},
            hold_account=account,
        )
        locked.save(update_fields=["refund_transaction", "updated_at"])
        enqueue_on_commit("mobilemoney.checkout_refund_process", locked.pk)
    return locked


def _claim(refund: Transaction) -> bool:
    return transaction_claim(transaction=refund)


def checkout_refund_process(session_pk: int) -> None:
    """Worker: claim the refund, ask the provider, capture or release the hold. A lost answer —
    or an unreachable provider: a refund is a money-moving call — leaves it ``unknown``
    (flagged), resolved by the checkout sweeper's status query; it is never guessed failed."""
    session = CheckoutSession.objects.select_related("refund_transaction").filter(pk=session_pk).first()
    refund: Transaction | None = session.refund_transaction if session else None
    if session is None or refund is None or not _claim(refund):
        return
    try:
        with (
            connector_session(connection_for(provider=session.provider, mode=session.mode)) as connector,
            calls_about(refund),
        ):
            remote = connector.checkout_refund(session.provider_session_id)
    except ProviderRejected as exc:
        outcome_apply(transaction=refund, outcome=Outcome.from_error(exc), cause=Cause.WORKER)
    except ProviderError as exc:
        outcome_apply(
            transaction=refund,
            outcome=Outcome.unknown(exc.message),
            cause=Cause.WORKER,
            needs_review=True,
            review_reason="refund answer lost",
        )
    else:
        CheckoutSession.objects.filter(pk=session.pk).update(payment_status=str(remote.payment_status))
        outcome_apply(transaction=refund, outcome=Outcome.succeeded(), cause=Cause.WORKER)
