"""Refund of a paid checkout session: a ``refund`` transaction held on the partner account,
sent to the provider by a worker (the provider's refund is idempotent per session)."""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction

from core.errors import BusinessRuleViolation, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.money import Money
from ledger.models import Kind, Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create
from mobilemoney.connectors import connector_for
from mobilemoney.models import CheckoutSession
from mobilemoney.services import outcomes

logger = logging.getLogger("mobilemoney.refunds")


def checkout_refund_request(session: CheckoutSession) -> CheckoutSession:
    """Accept a full refund (422 unless the session was paid and never refunded; 422
    ``insufficient_funds`` when the partner's available balance no longer covers it)."""
    from mobilemoney.tasks import checkout_refund_process  # the tasks module imports this one

    account = account_get_or_create_partner_account(partner=session.partner, mode=session.mode, currency="XOF")
    with db_transaction.atomic():
        locked = CheckoutSession.objects.select_for_update().select_related("transaction").get(pk=session.pk)
        if locked.transaction.status != "succeeded" or locked.refund_transaction_id is not None:
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
        db_transaction.on_commit(lambda: checkout_refund_process.delay(locked.pk))
    return locked


def checkout_refund_process(session_pk: int) -> None:
    """Worker: claim the refund, ask the provider, capture or release the hold. A lost answer
    leaves it ``unknown`` (flagged), resolved by the checkout sweeper's status query; it is
    never guessed failed."""
    session = CheckoutSession.objects.select_related("refund_transaction").filter(pk=session_pk).first()
    refund: Transaction | None = session.refund_transaction if session else None
    if session is None or refund is None or not outcomes.move(refund, "processing", cause="worker"):
        return
    try:
        with connector_for(provider=session.provider, mode=session.mode) as connector:
            remote = connector.checkout_refund(session.provider_session_id)
    except ProviderRejected as exc:
        outcomes.move(refund, "failed", cause="worker", failure_code=str(exc.code), failure_message=exc.message)
    except (ProviderOutcomeUnknown, ProviderUnavailable) as exc:
        outcomes.move(refund, "unknown", cause="worker", needs_review=True, detail={"error": exc.message})
    else:
        CheckoutSession.objects.filter(pk=session.pk).update(payment_status=str(remote.payment_status))
        outcomes.move(refund, "succeeded", cause="worker")
