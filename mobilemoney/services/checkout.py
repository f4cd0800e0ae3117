"""Checkout sessions: create (provider first, then one short DB transaction), expire, refund,
the sandbox customer, and the callback events that complete them.

The provider sees the session's public id (``cos_…``) as our reference: callbacks name it.
A completed session credits the partner through its ``collection`` transaction
(pending → processing → succeeded, credited by the ledger in the transition).
"""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import (
    BusinessRuleViolation,
    ErrorCode,
    IllegalTransition,
    ProviderError,
    ProviderRejected,
    ServiceUnavailable,
)
from core.outcomes import Outcome
from ledger.models import Kind, Transaction
from ledger.services import (
    account_get_or_create_partner_account,
    calls_about,
    item_guard,
    outcome_apply,
    transaction_create,
    transaction_transition,
)
from ledger.states import Cause, Status
from mobilemoney.connectors import connection_for
from mobilemoney.models import CheckoutSession, InboundCallback
from mobilemoney.models.checkout import new_checkout_session_id
from mobilemoney.providers.base import CheckoutRequest, CheckoutStatus, OperationStatus, PaymentStatus
from mobilemoney.providers.base import CheckoutSession as ProviderSession
from mobilemoney.services.qr import qr_png_base64
from mobilemoney.validation import CheckoutFields
from partners.models import Partner
from partners.registry import connector_session

logger = logging.getLogger("mobilemoney.checkout")


def provider_failure(error: ProviderError) -> Exception:
    """A provider error of a call that moves no money, as the partner sees it (nothing created)."""
    if isinstance(error, ProviderRejected):
        return BusinessRuleViolation(f"The provider refused: {error.message}", code=ErrorCode(error.code))
    return ServiceUnavailable("The provider is not reachable; try again.", code=ErrorCode.PROVIDER_UNAVAILABLE)


def _mirror(session: CheckoutSession, remote: ProviderSession) -> list[str]:
    session.status, session.payment_status = str(remote.status), str(remote.payment_status)
    session.payer_msisdn = remote.payer_msisdn or session.payer_msisdn
    session.expires_at = remote.expires_at or session.expires_at
    return ["status", "payment_status", "payer_msisdn", "expires_at", "updated_at"]


def checkout_create(*, partner: Partner, mode: str, provider: str, data: CheckoutFields) -> CheckoutSession:
    """Ask the provider for the session (no money moves), then store it with its ``collection``
    transaction (no hold: money arrives on success) in one short DB transaction."""
    public_id = new_checkout_session_id()
    request = CheckoutRequest(
        reference=public_id,
        money=data.money,
        success_url=data.success_url,
        error_url=data.error_url,
        restrict_payer_msisdn=data.restrict_payer_msisdn,
    )
    try:
        with connector_session(connection_for(provider=provider, mode=mode, currency=data.money.currency)) as connector:
            remote = connector.checkout_create(request)
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    account_get_or_create_partner_account(partner=partner, mode=mode, currency=data.money.currency)
    session = CheckoutSession(
        public_id=public_id,
        partner=partner,
        mode=mode,
        provider=provider,
        client_reference=data.client_reference,
        provider_session_id=remote.provider_session_id,
        payment_url=remote.payment_url or "",
        qr_payload=remote.qr_payload or remote.payment_url or "",
        qr_png_base64=remote.qr_png_base64 or qr_png_base64(remote.qr_payload or remote.payment_url or public_id),
        app_links=dict(remote.app_links),
        success_url=data.success_url,
        error_url=data.error_url,
        restrict_payer_msisdn=data.restrict_payer_msisdn or "",
    )
    _mirror(session, remote)
    with db_transaction.atomic():
        session.transaction = transaction_create(
            partner=partner,
            mode=mode,
            kind=Kind.COLLECTION,
            provider=provider,
            money=data.money,
            client_reference=data.client_reference,
            metadata={"checkout_session": public_id},
        )
        session.save(force_insert=True)
    return session


def checkout_complete(session: CheckoutSession, *, cause: str, payer_msisdn: str | None = None) -> None:
    """The session was paid: credit the partner once (a repeat finds the transaction final)."""
    CheckoutSession.objects.filter(pk=session.pk).update(
        status=CheckoutStatus.COMPLETE,
        payment_status=PaymentStatus.SUCCEEDED,
        payer_msisdn=payer_msisdn or session.payer_msisdn,
    )
    outcome_apply(transaction=session.transaction, outcome=Outcome.succeeded(session.provider_session_id), cause=cause)


def _expire(transaction: Transaction, *, cause: str) -> None:
    """A collection never paid expires (nothing moved, so no provider outcome: a plain transition)."""
    try:
        transaction_transition(transaction=transaction, to_status=Status.EXPIRED, cause=cause)
    except IllegalTransition:
        logger.info("collection already settled", extra={"txn": transaction.public_id})


def checkout_apply_event(row: InboundCallback) -> str | None:
    """Apply a checkout callback event; returns a flag reason when the session is unknown."""
    event = row.event
    session = (
        CheckoutSession.objects.select_related("transaction")
        .filter(mode=row.mode, provider=row.provider, public_id=event.get("reference") or "-")
        .first()
    ) or (
        CheckoutSession.objects.select_related("transaction")
        .filter(mode=row.mode, provider=row.provider, provider_session_id=event.get("provider_reference") or "-")
        .first()
    )
    if session is None:
        return "unknown checkout session"
    row.transaction_public_id = session.transaction.public_id
    if event.get("status") == OperationStatus.SUCCEEDED:
        checkout_complete(session, cause=Cause.CALLBACK, payer_msisdn=event.get("msisdn"))
    elif event.get("status") == OperationStatus.FAILED and session.payment_status != PaymentStatus.SUCCEEDED:
        # A failed attempt: the customer may try again while the session is open.
        CheckoutSession.objects.filter(pk=session.pk).update(
            payment_status=PaymentStatus.FAILED, last_failure_code=event.get("failure_code") or ""
        )
    return None


def checkout_expire(session: CheckoutSession) -> CheckoutSession:
    """Close an open session at the provider; its collection transaction expires (nothing moved)."""
    if session.status != CheckoutStatus.OPEN:
        raise BusinessRuleViolation(f"The session is {session.status}; only an open one can be expired.")
    try:
        with connector_session(connection_for(provider=session.provider, mode=session.mode)) as connector:
            remote = connector.checkout_expire(session.provider_session_id)
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    session.save(update_fields=_mirror(session, remote))
    if session.status == CheckoutStatus.EXPIRED:
        _expire(session.transaction, cause=Cause.API)
    return session


def checkout_pay_in_sandbox(session: CheckoutSession, payer_msisdn: str) -> CheckoutSession:
    """Test helper: the sandbox acts as the customer; the provider's callback completes the session."""
    try:
        with connector_session(connection_for(provider=session.provider, mode=session.mode)) as connector:
            remote = connector.sandbox_pay_checkout(session.provider_session_id, payer_msisdn)
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    session.save(update_fields=_mirror(session, remote))
    return session


def checkout_sync(session: CheckoutSession) -> CheckoutSession:
    """Reconcile a session with the provider (a missed callback, an expiry at the provider):
    paid → credited once; expired/failed and never paid → its collection expires. Read-only
    at the provider; an unreachable provider leaves everything as it was."""
    try:
        with (
            connector_session(connection_for(provider=session.provider, mode=session.mode)) as connector,
            calls_about(session.transaction),
        ):
            remote = connector.checkout_get(session.provider_session_id)
    except ProviderError as exc:
        logger.warning("checkout sync failed", extra={"session": session.public_id, "error": exc.message})
        return session
    session.save(update_fields=_mirror(session, remote))
    refund = session.refund_transaction
    if refund is not None and refund.status == Status.UNKNOWN and remote.payment_status == PaymentStatus.REFUNDED:
        # The refund's lost answer, resolved.
        outcome_apply(transaction=refund, outcome=Outcome.succeeded(), cause=Cause.POLLER)
    if session.transaction.status != Status.PENDING:
        return session  # already settled: the mirror above is all there is to update
    if remote.payment_status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED) or (
        remote.status == CheckoutStatus.COMPLETE
    ):
        checkout_complete(session, cause=Cause.POLLER, payer_msisdn=remote.payer_msisdn)
    elif remote.status in (CheckoutStatus.EXPIRED, CheckoutStatus.FAILED):
        _expire(session.transaction, cause=Cause.POLLER)
    return session


def checkout_sync_one(session_pk: int) -> None:
    """One item of the checkout sweeper: an unexpected error sets the session's collection aside
    for staff (``item_guard``), and ``checkout_sessions_due`` no longer offers it."""
    session = CheckoutSession.objects.select_related("transaction", "refund_transaction").filter(pk=session_pk).first()
    if session is None:
        return
    refund = session.refund_transaction
    target = refund if refund is not None and refund.status == Status.UNKNOWN else session.transaction
    with item_guard(work="mobilemoney.checkout_sync", transaction=target, item=session.public_id):
        checkout_sync(session)


def checkout_sessions_due(limit: int = 200) -> list[int]:
    """Sessions whose collection is still pending although they are past their expiry or no
    longer open (paid or closed without our having heard of it), or whose refund's answer was
    lost (beat). Sessions set aside for staff are skipped."""
    pending = Q(transaction__status=Status.PENDING)
    rows = CheckoutSession.objects.filter(
        pending & Q(expires_at__lt=timezone.now())
        | pending & ~Q(status=CheckoutStatus.OPEN)
        | Q(refund_transaction__status=Status.UNKNOWN)
    )
    rows = rows.filter(transaction__set_aside_at__isnull=True).exclude(refund_transaction__set_aside_at__isnull=False)
    return list(rows.values_list("pk", flat=True)[:limit])
