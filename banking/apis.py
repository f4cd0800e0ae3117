"""Partner API of the banking rail (DESIGN.md §5): batches in, status reports, transfers out."""

from __future__ import annotations

import base64
import binascii

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from banking import selectors
from banking.openapi import (
    BATCH_PAGE_PARAMETERS,
    IDEMPOTENCY_KEY,
    STATUS_REPORT_RESPONSE,
    BankTransferSerializer,
    TransferBatchDetailSerializer,
    TransferBatchJsonInput,
    TransferBatchSerializer,
)
from banking.serializers import (
    TransferCreateInput,
    batch_representation,
    item_representation,
    transfer_representation,
    transfer_request_from,
)
from banking.services import batch_receive, transfer_create
from core.errors import FieldError, NotFound, ValidationFailed
from ledger.idempotency import idempotent
from partners.api_base import PartnerApiView

SCOPE = "banking.transfers"
DEFAULT_PAGE = 50
MAX_PAGE = 100


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("p"):
            raise ValueError(text)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("Invalid cursor.", errors=[FieldError("cursor", "not a cursor of this list")]) from None


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationFailed("Invalid limit.", errors=[FieldError("limit", f"an integer from 1 to {MAX_PAGE}")])
    return int(raw)


class TransferBatchCreateApi(PartnerApiView):
    """``POST /banking/transfer-batches``: a pain.001 (application/xml) or the JSON batch."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_batch_create",
        request={"application/xml": OpenApiTypes.STR, "application/json": TransferBatchJsonInput},
        responses={202: TransferBatchSerializer},
        parameters=[IDEMPOTENCY_KEY],
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
    """``GET /banking/transfer-batches/{id}``: progress and a page of items (``?limit=&cursor=&status=``)."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_batch_retrieve",
        parameters=BATCH_PAGE_PARAMETERS,
        responses={200: TransferBatchDetailSerializer},
        tags=["banking"],
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = selectors.batch_get(partner=self.partner, mode=self.mode, public_id=batch_id)
        if batch is None:
            raise NotFound("No such transfer batch.")
        limit = _limit(request)
        items = selectors.batch_items(batch=batch)
        cursor = request.query_params.get("cursor")
        if cursor:
            items = items.filter(position__gt=_decode_cursor(cursor))
        status = request.query_params.get("status")
        if status:
            items = items.filter(transaction__status=status)
        page = list(items[: limit + 1])
        body = batch_representation(batch, selectors.batch_progress(batch=batch))
        body["items"] = [item_representation(item) for item in page[:limit]]
        body["next_cursor"] = _encode_cursor(page[limit - 1].position) if len(page) > limit else None
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
        parameters=[IDEMPOTENCY_KEY],
        tags=["banking"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        transfer_request = transfer_request_from(request.data)
        txn = transfer_create(partner=self.partner, mode=self.mode, request=transfer_request)
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
