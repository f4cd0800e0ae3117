"""Checkout sessions: create, get, advanced search, expire, refund; the test-mode customer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.pagination import CursorPaginator
from core.errors import NotFound, PermissionDenied
from core.money import format_minor
from ledger.idempotency import idempotent
from ledger.serializers import transaction_representation
from mobilemoney.models import CheckoutSession
from mobilemoney.serializers import (
    CheckoutSearchSerializer,
    CheckoutSessionCreateSerializer,
    CheckoutSessionPageSerializer,
    CheckoutSessionSerializer,
    SandboxPaySerializer,
)
from mobilemoney.services.checkout import checkout_create, checkout_expire, checkout_pay_in_sandbox
from mobilemoney.services.refunds import checkout_refund_request
from partners.api_base import PartnerApiView
from partners.models import Mode, Scope


def session_representation(session: CheckoutSession) -> dict[str, Any]:
    refund = session.refund_transaction
    return {
        "id": session.public_id,
        "object": "checkout_session",
        "provider": session.provider,
        "mode": session.mode,
        "status": session.status,
        "payment_status": session.payment_status,
        "amount": format_minor(session.transaction.amount_minor, session.transaction.currency),
        "currency": session.transaction.currency,
        "client_reference": session.client_reference,
        "payment_url": session.payment_url or None,
        "qr_code": {"payload": session.qr_payload or None, "png_base64": session.qr_png_base64 or None},
        "app_links": session.app_links,
        "payer_msisdn": session.payer_msisdn or None,
        "last_payment_failure": session.last_failure_code or None,
        "expires_at": session.expires_at.isoformat() if session.expires_at else None,
        "created_at": session.created_at.isoformat(),
        "transaction": transaction_representation(session.transaction),
        "refund": transaction_representation(refund) if refund else None,
    }


class CheckoutPartnerApi(PartnerApiView):
    required_scopes = [Scope.MOBILE_MONEY_CHECKOUT]

    def session(self, public_id: str) -> CheckoutSession:
        session = (
            CheckoutSession.objects.select_related("transaction", "refund_transaction", "partner")
            .filter(public_id=public_id, partner=self.partner, mode=self.mode)
            .first()
        )
        if session is None:
            raise NotFound("No such checkout session.")
        return session


class CheckoutSessionListCreateApi(CheckoutPartnerApi):
    paginator = CursorPaginator(key="pk")

    @extend_schema(
        operation_id="mobile_money_checkout_session_create",
        summary="Create a checkout session (payment link and QR code)",
        request=CheckoutSessionCreateSerializer,
        responses={201: CheckoutSessionSerializer},
        tags=["mobile-money"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Asks Wave or Orange Money for a payment page for `amount`: the answer (`201`) carries the
        `payment_url`, a QR code and the wallet apps' links to show your customer. When the
        customer pays, the session becomes `complete` and its `payment_status` `succeeded`
        (your webhook is called); unpaid, it expires at `expires_at`."""
        body = CheckoutSessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        provider, fields = data["provider"], data["checkout"]
        session = checkout_create(partner=self.partner, mode=self.mode, provider=provider, data=fields)
        return Response(session_representation(session), status=201)

    @extend_schema(
        operation_id="mobile_money_checkout_session_list",
        summary="Search your checkout sessions",
        parameters=[CheckoutSearchSerializer],
        responses={200: CheckoutSessionPageSerializer},
        tags=["mobile-money"],
    )
    def get(self, request: Request) -> Response:
        """Your checkout sessions in the mode of your key, newest first, a page at a time
        (`?limit=&cursor=`), filtered by `client_reference`, `status`, `provider` and a creation
        window (`created_after`, `created_before`: ISO 8601 with a time zone)."""
        query = CheckoutSearchSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = CheckoutSession.objects.filter(partner=self.partner, mode=self.mode, **query.filters()).select_related(
            "transaction", "refund_transaction"
        )
        page = self.paginator.page(rows, limit=query.validated_data["limit"], cursor=query.validated_data.get("cursor"))
        return Response(page.body([session_representation(s) for s in page.rows]))


class CheckoutSessionDetailApi(CheckoutPartnerApi):
    """A checkout session: its status, its payment's status and transaction, and the refund's
    transaction when one was asked for."""

    @extend_schema(
        operation_id="mobile_money_checkout_session_retrieve",
        summary="Get a checkout session",
        responses={200: CheckoutSessionSerializer},
        tags=["mobile-money"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        return Response(session_representation(self.session(public_id)))


class CheckoutSessionExpireApi(CheckoutPartnerApi):
    """Closes an `open` session at once, so it can no longer be paid (the provider is told); the
    answer is the session, now `expired`. A session that is not open any more is `422`."""

    @extend_schema(
        operation_id="mobile_money_checkout_session_expire",
        summary="Expire an open checkout session",
        request=None,
        responses={200: CheckoutSessionSerializer},
        tags=["mobile-money"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        session = checkout_expire(self.session(public_id))
        return Response(session_representation(self.session(session.public_id)))


class CheckoutSessionRefundApi(CheckoutPartnerApi):
    """Gives a paid session's amount back to the payer's wallet, in full, once. The answer is
    `202` with the session and its `refund` transaction; the refund settles in the background.
    A session that was not paid, or was refunded already, is `422`."""

    @extend_schema(
        operation_id="mobile_money_checkout_session_refund",
        summary="Refund a paid checkout session",
        request=None,
        responses={202: CheckoutSessionSerializer},
        tags=["mobile-money"],
    )
    @idempotent
    def post(self, request: Request, public_id: str) -> Response:
        session = checkout_refund_request(self.session(public_id))
        return Response(session_representation(self.session(session.public_id)), status=202)


class CheckoutSessionSandboxPayApi(CheckoutPartnerApi):
    """Test mode only (`403` with a live key): the sandbox customer `payer_msisdn` pays the session,
    as a real customer would through the payment page. The sandbox's numbers decide the outcome
    (docs/sandbox.md); the answer is the session as it is right after."""

    @extend_schema(
        operation_id="test_helpers_checkout_session_pay",
        summary="Pay a checkout session as a sandbox customer (test mode)",
        request=SandboxPaySerializer,
        responses={200: CheckoutSessionSerializer},
        tags=["test-helpers"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        if self.mode != Mode.TEST:
            raise PermissionDenied("Test helpers exist in test mode only.")
        body = SandboxPaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = checkout_pay_in_sandbox(self.session(public_id), body.validated_data["payer_msisdn"])
        return Response(session_representation(self.session(session.public_id)))
