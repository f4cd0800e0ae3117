"""Checkout sessions: create, get, advanced search, expire, refund; the test-mode customer."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from core.money import format_minor
from ledger.idempotency import idempotent
from ledger.serializers import transaction_representation
from mobilemoney.apis.pagination import page_body, page_params, paginate
from mobilemoney.models import CheckoutSession
from mobilemoney.providers.msisdn import is_e164
from mobilemoney.services.checkout import checkout_create, checkout_expire, checkout_pay_in_sandbox
from mobilemoney.services.refunds import checkout_refund_request
from mobilemoney.validation import PROVIDERS, checkout_input, provider_of
from partners.api_base import PartnerApiView
from partners.models import Scope

STATUSES = ("open", "complete", "expired", "failed")


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


def _filters(query: Any) -> dict[str, Any]:
    errors: list[FieldError] = []
    filters: dict[str, Any] = {}
    for name in ("client_reference", "status", "provider"):
        if query.get(name):
            filters[name] = query[name]
    if filters.get("status") and filters["status"] not in STATUSES:
        errors.append(FieldError("status", f"one of {', '.join(STATUSES)}"))
    if filters.get("provider") and filters["provider"] not in PROVIDERS:
        errors.append(FieldError("provider", f"one of {', '.join(PROVIDERS)}"))
    for name, lookup in (("created_after", "created_at__gte"), ("created_before", "created_at__lt")):
        if query.get(name):
            moment = parse_datetime(query[name])
            if moment is None or moment.tzinfo is None:
                errors.append(FieldError(name, "an ISO 8601 date-time with a time zone"))
            filters[lookup] = moment
    if errors:
        raise ValidationFailed("Bad search parameters.", errors=errors)
    return filters


class CheckoutSessionListCreateApi(CheckoutPartnerApi):
    @extend_schema(
        operation_id="mobile_money_checkout_session_create",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        tags=["mobile-money"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        errors: list[FieldError] = []
        provider = provider_of(request.data, errors)
        data = checkout_input(request.data, errors)
        if errors or data is None:
            raise ValidationFailed("The checkout session is not valid.", errors=errors)
        session = checkout_create(partner=self.partner, mode=self.mode, provider=provider, data=data)
        return Response(session_representation(session), status=201)

    @extend_schema(
        operation_id="mobile_money_checkout_session_list", responses=OpenApiTypes.OBJECT, tags=["mobile-money"]
    )
    def get(self, request: Request) -> Response:
        """Advanced search within this partner's sessions of this mode, newest first."""
        filters = _filters(request.query_params)
        limit, after = page_params(request.query_params)
        rows = CheckoutSession.objects.filter(partner=self.partner, mode=self.mode, **filters).select_related(
            "transaction", "refund_transaction"
        )
        page, cursor = paginate(rows, limit=limit, after_pk=after)
        return Response(page_body([session_representation(s) for s in page], cursor))


class CheckoutSessionDetailApi(CheckoutPartnerApi):
    @extend_schema(
        operation_id="mobile_money_checkout_session_retrieve", responses=OpenApiTypes.OBJECT, tags=["mobile-money"]
    )
    def get(self, request: Request, public_id: str) -> Response:
        return Response(session_representation(self.session(public_id)))


class CheckoutSessionExpireApi(CheckoutPartnerApi):
    @extend_schema(
        operation_id="mobile_money_checkout_session_expire",
        request=None,
        responses=OpenApiTypes.OBJECT,
        tags=["mobile-money"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        session = checkout_expire(self.session(public_id))
        return Response(session_representation(self.session(session.public_id)))


class CheckoutSessionRefundApi(CheckoutPartnerApi):
    @extend_schema(
        operation_id="mobile_money_checkout_session_refund",
        request=None,
        responses=OpenApiTypes.OBJECT,
        tags=["mobile-money"],
    )
    @idempotent
    def post(self, request: Request, public_id: str) -> Response:
        session = checkout_refund_request(self.session(public_id))
        return Response(session_representation(self.session(session.public_id)), status=202)


class CheckoutSessionSandboxPayApi(CheckoutPartnerApi):
    """POST /test-helpers/checkout-sessions/{id}/pay — test mode only (403 with a live key)."""

    @extend_schema(
        operation_id="test_helpers_checkout_session_pay",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        tags=["test-helpers"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        if self.mode != "test":
            raise PermissionDenied("Test helpers exist in test mode only.")
        payer = request.data.get("payer_msisdn") if isinstance(request.data, dict) else None
        if not isinstance(payer, str) or not is_e164(payer):
            raise ValidationFailed("Invalid payer.", errors=[FieldError("payer_msisdn", "an E.164 number")])
        session = checkout_pay_in_sandbox(self.session(public_id), payer)
        return Response(session_representation(self.session(session.public_id)))
