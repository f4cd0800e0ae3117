"""Partner API of the banking rail (docs/architecture.md §5): batches in, status reports, transfers out."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from banking import selectors
from banking.openapi import (
    STATUS_REPORT_RESPONSE,
    BankTransferSerializer,
    TransferBatchDetailSerializer,
    TransferBatchJsonInput,
    TransferBatchSerializer,
)
from banking.serializers import (
    BatchItemsQuerySerializer,
    TransferCreateInput,
    batch_representation,
    item_representation,
    transfer_representation,
)
from banking.services import batch_receive, transfer_create
from core.api.pagination import CursorPaginator
from core.errors import NotFound
from ledger.idempotency import idempotent
from partners.api_base import PartnerApiView

SCOPE = "banking.transfers"


class TransferBatchCreateApi(PartnerApiView):
    """``POST /banking/transfer-batches``: a pain.001 (application/xml) or the JSON batch."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_batch_create",
        request={"application/xml": OpenApiTypes.STR, "application/json": TransferBatchJsonInput},
        responses={202: TransferBatchSerializer},
        tags=["banking"],
        summary="Submit a pain.001.001.09 credit-transfer batch (XML) or its JSON equivalent",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        batch = batch_receive(
            partner=self.partner, mode=self.mode, body=request.body, content_type=request.content_type or ""
        )
        return Response(batch_representation(batch, selectors.batch_progress(batch=batch)), status=202)


class TransferBatchDetailApi(PartnerApiView):
    """``GET /banking/transfer-batches/{id}``: progress and a page of items (``?limit=&cursor=&status=``),
    in message order, paged by the one paginator of the API (core/api/pagination.py)."""

    required_scopes = [SCOPE]
    paginator = CursorPaginator(key="position", descending=False)

    @extend_schema(
        operation_id="banking_transfer_batch_retrieve",
        parameters=[BatchItemsQuerySerializer],
        responses={200: TransferBatchDetailSerializer},
        tags=["banking"],
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = selectors.batch_get(partner=self.partner, mode=self.mode, public_id=batch_id)
        if batch is None:
            raise NotFound("No such transfer batch.")
        query = BatchItemsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        items = selectors.batch_items(batch=batch)
        if filters.get("status"):
            items = items.filter(transaction__status=filters["status"])
        page = self.paginator.page(items, limit=filters["limit"], cursor=filters.get("cursor"))
        body = batch_representation(batch, selectors.batch_progress(batch=batch))
        body["items"] = [item_representation(item) for item in page.rows]
        body["has_more"] = page.next_cursor is not None
        body["next_cursor"] = page.next_cursor
        return Response(body)


class TransferBatchStatusReportApi(PartnerApiView):
    """``GET /banking/transfer-batches/{id}/status-report``: the batch's pain.002 (XML)."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_batch_status_report",
        responses={(200, "application/xml"): STATUS_REPORT_RESPONSE},
        tags=["banking"],
    )
    def get(self, request: Request, batch_id: str) -> HttpResponse:
        batch = selectors.batch_get(partner=self.partner, mode=self.mode, public_id=batch_id)
        if batch is None:
            raise NotFound("No such transfer batch.")
        return HttpResponse(selectors.batch_status_report(batch=batch), content_type="application/xml")


class TransferCreateApi(PartnerApiView):
    """``POST /banking/transfers``: a transfer to another bank's customer (hold, then send)."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_create",
        request=TransferCreateInput,
        responses={202: BankTransferSerializer},
        tags=["banking"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = TransferCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        txn = transfer_create(partner=self.partner, mode=self.mode, request=serializer.to_request())
        transfer = selectors.transfer_get(partner=self.partner, mode=self.mode, public_id=txn.public_id)
        assert transfer is not None
        return Response(transfer_representation(transfer), status=202)


class TransferDetailApi(PartnerApiView):
    """``GET /banking/transfers/{id}``."""

    required_scopes = [SCOPE]

    @extend_schema(operation_id="banking_transfer_retrieve", responses={200: BankTransferSerializer}, tags=["banking"])
    def get(self, request: Request, transfer_id: str) -> Response:
        transfer = selectors.transfer_get(partner=self.partner, mode=self.mode, public_id=transfer_id)
        if transfer is None:
            raise NotFound("No such transfer.")
        return Response(transfer_representation(transfer))
