"""The partner's statement of account (docs/partner-api.md §9.1, docs/reports.md §2).

``GET /api/v1/statements?from=&to=[&currency=]``: the partner's own account in the mode of its
key, opening balance, every entry, closing balance. JSON by default, streamed (a year of a busy
account is many entries); ``Accept: text/csv`` gives the same as CSV. Opening + Σ entries =
closing, and the closing balance of a period ending today is the balance of ``GET /balances``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from core.errors import NotFound
from core.money import format_minor
from ledger.models import Account
from ledger.services import account_get_or_create_partner_account
from partners.api_base import PartnerApiView
from partners.models import Scope
from reporting.formats import csv_chunks
from reporting.selectors import STATEMENT_HEADER, Statement, statement_of, statement_rows
from reporting.serializers import StatementQuerySerializer, StatementSerializer

ENTRIES_PER_CHUNK = 500


class CsvRenderer(BaseRenderer):
    """Lets ``Accept: text/csv`` through content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode()  # only a problem body ever reaches here


def _head(statement: Statement, mode: str) -> dict[str, Any]:
    currency = statement.account.currency
    return {
        "object": "statement",
        "mode": mode,
        "currency": currency,
        "period": {"from": statement.date_from.isoformat(), "to": statement.date_to.isoformat()},
        "opening_balance": format_minor(statement.opening_minor, currency),
        "closing_balance": format_minor(statement.closing_minor, currency),
        "entry_count": statement.entry_count,
    }


def _json_chunks(statement: Statement, mode: str) -> Iterator[bytes]:
    head = json.dumps(_head(statement, mode))
    yield (head[:-1] + ', "entries": [').encode()
    batch: list[str] = []
    first = True
    for booked_at, _entry, transaction, description, amount, after, _currency in statement_rows(statement):
        entry = {
            "booked_at": booked_at,
            "transaction": transaction or None,
            "description": description,
            "amount": amount,
            "balance_after": after,
        }
        batch.append(("" if first else ",") + json.dumps(entry))
        first = False
        if len(batch) >= ENTRIES_PER_CHUNK:
            yield "".join(batch).encode()
            batch.clear()
    yield ("".join(batch) + "]}").encode()


class StatementApi(PartnerApiView):
    """Your account statement over a period (both days included, Africa/Dakar time): opening
    balance, every entry with the balance after it, closing balance. `Accept: text/csv` for CSV."""

    required_scopes = [Scope.BALANCES_READ]
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="statements_retrieve",
        summary="Get your account statement",
        parameters=[StatementQuerySerializer],
        responses={
            (200, "application/json"): StatementSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="with `Accept: text/csv` (or `?format=csv`): one row per entry, columns "
                + ", ".join(STATEMENT_HEADER),
            ),
            404: OpenApiResponse(description="You have no account in this currency in the mode of your key."),
        },
        tags=["account"],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        currency = query.validated_data["currency"]
        if currency == "XOF":  # every partner has its XOF account from the first look (as /balances)
            account_get_or_create_partner_account(partner=self.partner, mode=self.mode, currency=currency)
        account = Account.objects.filter(partner=self.partner, mode=self.mode, currency=currency).first()
        if account is None:
            raise NotFound(f"You have no {currency} account in {self.mode} mode.")
        statement = statement_of(
            account=account, date_from=query.validated_data["from"], date_to=query.validated_data["to"]
        )
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(
                csv_chunks(STATEMENT_HEADER, statement_rows(statement)), content_type="text/csv; charset=utf-8"
            )
            name = f"statement-{statement.date_from}-{statement.date_to}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return StreamingHttpResponse(_json_chunks(statement, self.mode), content_type="application/json")
