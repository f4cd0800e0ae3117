"""Partner API of bills (docs/architecture.md §5): billers, lookups, quotes, payments."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.pagination import CursorPaginator, PageQuerySerializer
from core.errors import NotFound
from ledger.idempotency import idempotent
from partners.api_base import PartnerApiView
from partners.models import Scope
from payments import selectors, services
from payments.serializers import (
    BillerPageSerializer,
    BillPaymentSerializer,
    LookupInput,
    LookupSerializer,
    PaymentInput,
    QuoteInput,
    QuoteSerializer,
    bill_payment_representation,
    biller_representation,
    lookup_representation,
    quote_representation,
)

MAX_WAIT_SECONDS = 30
PREFER_WAIT_RE = re.compile(r"(?:^|[;,\s])wait=([0-9]{1,4})(?:$|[;,\s])")
PREFER = OpenApiParameter(
    "Prefer", OpenApiTypes.STR, OpenApiParameter.HEADER, description="wait=<seconds ≤ 30>: answer once settled"
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="1-255 characters"
)


class BillerListApi(PartnerApiView):
    paginator = CursorPaginator(key="code", descending=False)
    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        operation_id="bills_billers_list",
        tags=["bills"],
        parameters=[PageQuerySerializer],
        responses={200: BillerPageSerializer},
        summary="Billers: reference format, amount limits and offers (cached a few minutes)",
    )
    def get(self, request: Request) -> Response:
        limit, cursor = self.paginator.params(request.query_params)
        page = self.paginator.page_of_items(services.biller_list(mode=self.mode), limit=limit, cursor=cursor)
        return Response(page.body([biller_representation(biller) for biller in page.rows]))


class LookupCreateApi(PartnerApiView):
    """A lookup reads only: no Idempotency-Key needed."""

    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        tags=["bills"],
        request=LookupInput,
        responses={200: LookupSerializer},
        summary="Look a customer up: name and open bills, or prepaid limits",
    )
    def post(self, request: Request) -> Response:
        data = _valid(LookupInput, request)
        lookup = services.customer_lookup(
            mode=self.mode, biller_code=data["biller"], customer_reference=data["customer_reference"]
        )
        return Response(lookup_representation(lookup))


class QuoteCreateApi(PartnerApiView):
    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        tags=["bills"],
        request=QuoteInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: QuoteSerializer},
        summary="Quote (simulate) a payment: fee, total, expires_at",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(QuoteInput, request)
        quote = services.quote_create(
            partner=self.partner,
            mode=self.mode,
            biller_code=data["biller"],
            customer_reference=data["customer_reference"],
            bill_id=data.get("bill_id"),
            amount=data.get("money"),
        )
        return Response(quote_representation(quote), status=201)


class PaymentCreateApi(PartnerApiView):
    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        tags=["bills"],
        request=PaymentInput,
        parameters=[IDEMPOTENCY_KEY, PREFER],
        responses={202: BillPaymentSerializer},
        summary="Pay a quote: validated, amount + fee held, executed asynchronously",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(PaymentInput, request)
        payment = services.bill_payment_create(
            partner=self.partner, mode=self.mode, quote_id=data["quote_id"], client_reference=data["client_reference"]
        )
        wait_seconds = _preferred_wait(request)
        headers = {}
        if wait_seconds:
            payment = selectors.bill_payment_wait_settled(payment=payment, seconds=wait_seconds)
            headers["Preference-Applied"] = f"wait={wait_seconds}"
        return Response(bill_payment_representation(payment), status=202, headers=headers)


class PaymentDetailApi(PartnerApiView):
    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        tags=["bills"],
        responses={200: BillPaymentSerializer},
        summary="A bill payment with its receipt and transaction",
    )
    def get(self, request: Request, payment_id: str) -> Response:
        payment = selectors.bill_payment_get(partner=self.partner, mode=self.mode, payment_id=payment_id)
        if payment is None:
            raise NotFound(f"No bill payment {payment_id!r}.")
        return Response(bill_payment_representation(payment))


def _preferred_wait(request: Request) -> int:
    """``Prefer: wait=<seconds>`` (docs/architecture.md §5), capped at 30 s; 0 when absent or malformed."""
    match = PREFER_WAIT_RE.search(request.headers.get("Prefer", ""))
    return min(int(match.group(1)), MAX_WAIT_SECONDS) if match else 0


def _valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
