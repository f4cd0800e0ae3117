"""Partner API of bills (docs/architecture.md §5): billers, lookups, quotes, payments."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
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
    "Prefer",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="`wait=<seconds>` (at most 30): answer once the payment is final or the time is up, "
    "with `Preference-Applied: wait=<seconds>`",
)


class BillerListApi(PartnerApiView):
    """The billers you can pay, by `code`, a page at a time (`?limit=&cursor=`): each with its
    `kind` (`bill`: an open bill is paid in full by its `bill_id`; `prepaid`: any `amount` between
    `min_amount` and `max_amount`, or one of its `offers`), the customer reference it expects
    (`reference_label`, `reference_pattern`, `reference_example`) and whether it is `available`."""

    paginator = CursorPaginator(key="code", descending=False)
    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        operation_id="bills_billers_list",
        tags=["bills"],
        parameters=[PageQuerySerializer],
        responses={200: BillerPageSerializer},
        summary="List the billers",
    )
    def get(self, request: Request) -> Response:
        limit, cursor = self.paginator.params(request.query_params)
        page = self.paginator.page_of_items(services.biller_list(mode=self.mode), limit=limit, cursor=cursor)
        return Response(page.body([biller_representation(biller) for biller in page.rows]))


class LookupCreateApi(PartnerApiView):
    """Asks the biller about a customer reference: the customer's name and, for a `bill` biller,
    the open bills (each with its `bill_id`); for a `prepaid` biller, the amount limits and
    offers. A lookup changes nothing and needs no Idempotency-Key. An unknown reference is
    `422 invalid_customer_reference`; a biller that does not answer, `503`."""

    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        operation_id="bills_lookup_create",
        tags=["bills"],
        request=LookupInput,
        responses={200: LookupSerializer},
        summary="Look up a customer and their open bills",
    )
    def post(self, request: Request) -> Response:
        data = _valid(LookupInput, request)
        lookup = services.customer_lookup(
            mode=self.mode, biller_code=data["biller"], customer_reference=data["customer_reference"]
        )
        return Response(lookup_representation(lookup))


class QuoteCreateApi(PartnerApiView):
    """Prices a payment before it is made: one open bill (`bill_id` from the lookup) of a `bill`
    biller, or an `amount` for a `prepaid` biller. The answer (`201`) gives the `fee`, the
    `total` that will be held on your account and `expires_at`; pay it with
    `POST /bills/payments` before then. Nothing is held yet."""

    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        operation_id="bills_quote_create",
        tags=["bills"],
        request=QuoteInput,
        responses={201: QuoteSerializer},
        summary="Quote a bill payment (fee, total, expiry)",
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
    """Pays a quote: the quote's `total` is held on your account and the answer is `202` with the
    payment `pending` or `processing`; the biller is paid in the background and the `receipt`
    (number, and tokens for prepaid electricity) appears once it `succeeded`. With
    `Prefer: wait=<seconds>` the answer waits up to that long (30 s at most) for the final status.
    A quote pays once (`422 quote_already_used`) and only before it expires
    (`422 quote_expired`)."""

    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        operation_id="bills_payment_create",
        tags=["bills"],
        request=PaymentInput,
        parameters=[PREFER],
        responses={202: BillPaymentSerializer, 404: OpenApiResponse(description="No such quote (`quote_id`).")},
        summary="Pay a quoted bill",
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
    """A bill payment with its status, its `receipt` once paid and its transaction."""

    required_scopes = [Scope.BILLS_PAY]

    @extend_schema(
        operation_id="bills_payment_retrieve",
        tags=["bills"],
        responses={200: BillPaymentSerializer},
        summary="Get a bill payment and its receipt",
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
