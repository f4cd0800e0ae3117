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
    """For a partner bank: submits a batch of credit transfers to accounts held at the bank, as an
    ISO 20022 `pain.001.001.09` (or `.03`) message (`Content-Type: application/xml`) or the same
    content as JSON; each item is credited in the bank's core banking. The message is checked
    whole first (control sums, accounts, dates; `400` and nothing created); a `msg_id` you sent
    before is `409 duplicate`. The total is held on your account and the answer is `202` with
    the batch's progress; each transfer settles in the background."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_batch_create",
        request={"application/xml": OpenApiTypes.STR, "application/json": TransferBatchJsonInput},
        responses={202: TransferBatchSerializer},
        tags=["banking"],
        summary="Submit a credit-transfer batch (pain.001 XML or JSON)",
    )
    @idempotent(one_transaction=True)
    def post(self, request: Request) -> Response:
        batch = batch_receive(
            partner=self.partner, mode=self.mode, body=request.body, content_type=request.content_type or ""
        )
        return Response(batch_representation(batch, selectors.batch_progress(batch=batch)), status=202)


class TransferBatchDetailApi(PartnerApiView):
    """A transfer batch, its progress (items and amounts credited or rejected) and one page of its
    items in message order (`?limit=&cursor=`, optionally only those in one `status`); the next
    page comes with `?cursor=<next_cursor>`."""

    required_scopes = [SCOPE]
    paginator = CursorPaginator(key="position", descending=False)

    @extend_schema(
        operation_id="banking_transfer_batch_retrieve",
        summary="Get a transfer batch, its progress and its items",
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
    """The batch's ISO 20022 `pain.002.001.10` customer payment status report (XML): the status of
    the group and of every transaction, with the reason code of each rejection."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_batch_status_report",
        summary="Get a transfer batch's status report (pain.002)",
        responses={(200, "application/xml"): STATUS_REPORT_RESPONSE},
        tags=["banking"],
    )
    def get(self, request: Request, batch_id: str) -> HttpResponse:
        batch = selectors.batch_get(partner=self.partner, mode=self.mode, public_id=batch_id)
        if batch is None:
            raise NotFound("No such transfer batch.")
        return HttpResponse(selectors.batch_status_report(batch=batch), content_type="application/xml")


class TransferCreateApi(PartnerApiView):
    """Sends one credit transfer from your account to an account at a WAEMU bank (`iban` as an
    IBAN or a RIB, `bic` of its bank), in XOF. The amount is held on your account and the answer
    is `202` with the transfer `pending` or `processing`; `settlement` says how it travels. It
    becomes `succeeded` when the beneficiary's bank confirms, or `failed` with the ISO 20022
    `reason_code`. `remittance_information` and `end_to_end_id` use the ISO 20022 Latin set
    (letters without accents, digits, space and `/ - ? : ( ) . , ' +`)."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_create",
        summary="Send a bank transfer",
        request=TransferCreateInput,
        responses={202: BankTransferSerializer},
        tags=["banking"],
    )
    @idempotent(one_transaction=True)
    def post(self, request: Request) -> Response:
        serializer = TransferCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        txn = transfer_create(partner=self.partner, mode=self.mode, request=serializer.to_request())
        transfer = selectors.transfer_get(partner=self.partner, mode=self.mode, public_id=txn.public_id)
        assert transfer is not None
        return Response(transfer_representation(transfer), status=202)


class TransferDetailApi(PartnerApiView):
    """One of your bank transfers (single or from a batch) with its status, its reason code
    when rejected and its transaction."""

    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="banking_transfer_retrieve",
        summary="Get a bank transfer",
        responses={200: BankTransferSerializer},
        tags=["banking"],
    )
    def get(self, request: Request, transfer_id: str) -> Response:
        transfer = selectors.transfer_get(partner=self.partner, mode=self.mode, public_id=transfer_id)
        if transfer is None:
            raise NotFound("No such transfer.")
        return Response(transfer_representation(transfer))
