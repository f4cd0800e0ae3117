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
    ProviderError,
    ProviderRejected,
    ServiceUnavailable,
)
from ledger.models import Kind
from ledger.services import account_get_or_create_partner_account, transaction_create
from mobilemoney.connectors import connector_for
from mobilemoney.models import CheckoutSession, InboundCallback
from mobilemoney.models.checkout import new_checkout_session_id
from mobilemoney.providers.base import CheckoutRequest
from mobilemoney.providers.base import CheckoutSession as ProviderSession
from mobilemoney.services import outcomes
from mobilemoney.services.qr import qr_png_base64
from mobilemoney.validation import CheckoutFields
from partners.models import Partner

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
        with connector_for(provider=provider, mode=mode) as connector:
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
        status="complete", payment_status="succeeded", payer_msisdn=payer_msisdn or session.payer_msisdn
    )
    outcomes.reach(session.transaction, "succeeded", cause=cause, provider_reference=session.provider_session_id)


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
    if event.get("status") == "succeeded":
        checkout_complete(session, cause="callback", payer_msisdn=event.get("msisdn"))
    elif event.get("status") == "failed" and session.payment_status != "succeeded":
        # A failed attempt: the customer may try again while the session is open.
        CheckoutSession.objects.filter(pk=session.pk).update(
            payment_status="failed", last_failure_code=event.get("failure_code") or ""
        )
    return None


def checkout_expire(session: CheckoutSession) -> CheckoutSession:
    """Close an open session at the provider; its collection transaction expires (nothing moved)."""
    if session.status != "open":
        raise BusinessRuleViolation(f"The session is {session.status}; only an open one can be expired.")
    try:
        with connector_for(provider=session.provider, mode=session.mode) as connector:
            remote = connector.checkout_expire(session.provider_session_id)
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    session.save(update_fields=_mirror(session, remote))
    if session.status == "expired":
        outcomes.move(session.transaction, "expired", cause="api")
    return session


def checkout_pay_in_sandbox(session: CheckoutSession, payer_msisdn: str) -> CheckoutSession:
    """Test helper: the sandbox acts as the customer; the provider's callback completes the session."""
    try:
        with connector_for(provider=session.provider, mode=session.mode) as connector:
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
        with connector_for(provider=session.provider, mode=session.mode) as connector:
            remote = connector.checkout_get(session.provider_session_id)
    except ProviderError as exc:
        logger.warning("checkout sync failed", extra={"session": session.public_id, "error": exc.message})
        return session
    session.save(update_fields=_mirror(session, remote))
    refund = session.refund_transaction
    if refund is not None and refund.status == "unknown" and remote.payment_status == "refunded":
        outcomes.move(refund, "succeeded", cause="poller")  # the refund's lost answer, resolved
    if session.transaction.status != "pending":
        return session  # already settled: the mirror above is all there is to update
    if remote.payment_status in ("succeeded", "refunded") or remote.status == "complete":
        checkout_complete(session, cause="poller", payer_msisdn=remote.payer_msisdn)
    elif remote.status in ("expired", "failed"):
        outcomes.move(session.transaction, "expired", cause="poller")
    return session


def checkout_sessions_due(limit: int = 200) -> list[int]:
    """Sessions whose collection is still pending although they are past their expiry or no
    longer open (paid or closed without our having heard of it), or whose refund's answer was
    lost (beat)."""
    rows = CheckoutSession.objects.filter(
        Q(transaction__status="pending", expires_at__lt=timezone.now())
        | Q(transaction__status="pending") & ~Q(status="open")
        | Q(refund_transaction__status="unknown")
    )
    return list(rows.values_list("pk", flat=True)[:limit])
