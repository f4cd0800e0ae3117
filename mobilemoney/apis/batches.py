"""Bulk cash-ins: POST (JSON or CSV upload), progress, items (JSON pages or a CSV result)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Count, Sum
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.pagination import CursorPaginator
from core.api.parsers import GatewayJSONParser
from core.errors import NotFound, ValidationFailed
from core.money import format_minor
from ledger.idempotency import idempotent
from ledger.models import Transaction
from ledger.states import Status
from mobilemoney.models import CashIn, CashInBatch
from mobilemoney.serializers import (
    BatchCreateSerializer,
    BatchCsvQuerySerializer,
    BatchItemsQuerySerializer,
    CashInBatchItemPageSerializer,
    CashInBatchRetriedSerializer,
    CashInBatchSerializer,
    items_validate,
)
from mobilemoney.services.batch_ingest import batch_create, items_from_csv
from mobilemoney.services.batch_retry import batch_retry_failed
from partners.api_base import PartnerApiView
from partners.models import Scope

RESULT_COLUMNS = (
    "line", "client_reference", "msisdn", "amount", "currency", "status", "failure_code", "transaction_id",
    "provider_reference",
)  # fmt: skip


class CsvParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return str(stream.read().decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise ValidationFailed("The CSV file must be UTF-8.") from exc


def batch_representation(batch: CashInBatch) -> dict[str, Any]:
    rows = (
        Transaction.objects.filter(cash_in__batch=batch, cash_in__superseded=False)
        .values("status")
        .annotate(count=Count("id"), amount=Sum("amount_minor"))
    )
    by_status: dict[str, dict[str, Any]] = {row["status"]: dict(row) for row in rows}
    return {
        "id": batch.public_id,
        "object": "cash_in_batch",
        "provider": batch.provider,
        "mode": batch.mode,
        "status": batch.status,
        "item_count": batch.item_count,
        "total": format_minor(batch.total_minor, batch.currency),
        "currency": batch.currency,
        "progress": {
            status: {
                "count": by_status.get(status, {}).get("count", 0),
                "amount": format_minor(by_status.get(status, {}).get("amount") or 0, batch.currency),
            }
            for status in Status.values
            if status not in (Status.CANCELLED, Status.EXPIRED)
        },
        "created_at": batch.created_at.isoformat(),
        "completed_at": batch.completed_at.isoformat() if batch.completed_at else None,
    }


def item_representation(cash_in: CashIn) -> dict[str, Any]:
    txn = cash_in.transaction
    return {
        "line": cash_in.line,
        "client_reference": txn.client_reference,
        "msisdn": cash_in.msisdn,
        "amount": format_minor(txn.amount_minor, txn.currency),
        "currency": txn.currency,
        "status": txn.status,
        "failure_code": txn.failure_code or None,
        "transaction_id": txn.public_id,
        "provider_reference": txn.provider_reference or None,
    }


class BatchApi(PartnerApiView):
    required_scopes = [Scope.MOBILE_MONEY_CASH_IN]

    def batch(self, public_id: str) -> CashInBatch:
        batch = CashInBatch.objects.filter(public_id=public_id, partner=self.partner, mode=self.mode).first()
        if batch is None:
            raise NotFound("No such cash-in batch.")
        return batch


CSV_RESULT = OpenApiResponse(
    response=OpenApiTypes.STR,
    description="with `?format=csv` or `Accept: text/csv`: every item as one CSV row, columns "
    + ", ".join(RESULT_COLUMNS),
)


class BatchCreateApi(BatchApi):
    """Up to 10,000 cash-ins in one request, as JSON (`{"provider", "items": [...]}`) or as a
    CSV file (`Content-Type: text/csv`, columns `msisdn,amount,currency,client_reference` and
    optionally `recipient_name,reason`, with `?provider=` in the query).

    Every item is checked first: one bad item refuses the whole batch with `400`, each problem
    named (`items[3].msisdn`, or `line 4.msisdn` for a CSV), and nothing is created. The total is
    held on your account and the answer is `202` with the batch's progress; the items are sent
    in the background."""

    parser_classes = [GatewayJSONParser, CsvParser]

    @extend_schema(
        operation_id="mobile_money_cash_in_batch_create",
        summary="Send a batch of cash-ins (JSON or CSV)",
        request={"application/json": BatchCreateSerializer, "text/csv": OpenApiTypes.STR},
        parameters=[OpenApiParameter("provider", str, description="a provider code, with a CSV upload only")],
        responses={202: CashInBatchSerializer},
        tags=["mobile-money"],
    )
    @idempotent(one_transaction=True)
    def post(self, request: Request) -> Response:
        if isinstance(request.data, str):  # a CSV upload: the provider comes in the query
            query = BatchCsvQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            provider = query.validated_data["provider"]
            valid = items_validate(*items_from_csv(request.data))
        else:
            body = BatchCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            provider, valid = body.validated_data["provider"], body.validated_data["items"]
        batch = batch_create(partner=self.partner, mode=self.mode, provider=provider, items=valid)
        return Response(batch_representation(batch), status=202)


class BatchDetailApi(BatchApi):
    """A batch of cash-ins and its progress: how many items, and how much, are in each status.
    The batch is `completed` when every item is final."""

    @extend_schema(
        operation_id="mobile_money_cash_in_batch_retrieve",
        summary="Get a cash-in batch and its progress",
        responses={200: CashInBatchSerializer},
        tags=["mobile-money"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        return Response(batch_representation(self.batch(public_id)))


class BatchItemsApi(BatchApi):
    paginator = CursorPaginator(key="pk")

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The CSV result is built by hand below; DRF must not refuse ?format=csv / Accept: text/csv.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        operation_id="mobile_money_cash_in_batch_items_list",
        summary="List the items of a cash-in batch",
        parameters=[BatchItemsQuerySerializer],
        responses={(200, "application/json"): CashInBatchItemPageSerializer, (200, "text/csv"): CSV_RESULT},
        tags=["mobile-money"],
    )
    def get(self, request: Request, public_id: str) -> Response | HttpResponse:
        """The items of a batch in their order, a page at a time (`?limit=&cursor=`), optionally
        only those in one `status`; or the whole result as one CSV file (`?format=csv`)."""
        batch = self.batch(public_id)
        query = BatchItemsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = CashIn.objects.filter(batch=batch, superseded=False).select_related("transaction")
        if query.validated_data.get("status"):
            rows = rows.filter(transaction__status=query.validated_data["status"])
        wants_csv = query.validated_data.get("format") == "csv" or "text/csv" in request.headers.get("Accept", "")
        if wants_csv:
            return _csv_result(batch, rows.order_by("line"))
        page = self.paginator.page(rows, limit=query.validated_data["limit"], cursor=query.validated_data.get("cursor"))
        return Response(page.body([item_representation(c) for c in page.rows]))


class BatchRetryApi(BatchApi):
    @extend_schema(
        operation_id="mobile_money_cash_in_batch_retry_failed",
        summary="Retry the failed items of a cash-in batch",
        request=None,
        responses={202: CashInBatchRetriedSerializer},
        tags=["mobile-money"],
    )
    @idempotent
    def post(self, request: Request, public_id: str) -> Response:
        """Sends every failed item of the batch again, as a new transaction with the same line and
        client reference; their amounts are held again. `422` when no item has failed (or all were
        retried already), `422 insufficient_funds` when your balance cannot cover them. The
        answer is the batch with `retried`, the number of items sent again."""
        batch = self.batch(public_id)
        retried = batch_retry_failed(batch)
        body = batch_representation(self.batch(public_id))
        body["retried"] = retried
        return Response(body, status=202)


def _csv_result(batch: CashInBatch, rows: Any) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RESULT_COLUMNS)
    for cash_in in rows.iterator(chunk_size=2000):
        item = item_representation(cash_in)
        writer.writerow(["" if item[c] is None else item[c] for c in RESULT_COLUMNS])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch.public_id}.csv"'
    return response
