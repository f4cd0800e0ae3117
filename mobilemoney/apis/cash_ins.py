"""POST /mobile-money/cash-ins (idempotent, 202 with the transaction) and GET /cash-ins/{id}."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from ledger.idempotency import idempotent
from ledger.serializers import transaction_representation
from mobilemoney.models import CashIn
from mobilemoney.serializers import CashInCreateSerializer, CashInSerializer, CashInWithEventsSerializer
from mobilemoney.services.cash_ins import cash_in_create
from partners.api_base import PartnerApiView
from partners.models import Scope


def cash_in_representation(cash_in: CashIn, *, with_events: bool = False) -> dict[str, Any]:
    """The transaction (one shape for every rail) with the cash-in's own fields."""
    body = transaction_representation(cash_in.transaction, with_events=with_events)
    body["cash_in"] = {
        "msisdn": cash_in.msisdn,
        "recipient_name": cash_in.recipient_name or None,
        "reason": cash_in.reason or None,
    }
    return body


class CashInCreateApi(PartnerApiView):
    """Pays `amount` into the Wave or Orange Money wallet of `msisdn`, from your account.

    The amount is held on your account at once and the answer is `202` with the transaction in
    `pending` or `processing`; the provider is called in the background. The final status
    (`succeeded` or `failed`; `unknown` while the provider's answer is awaited) comes by
    `GET /mobile-money/cash-ins/{id}`, by your webhook, or in `GET /transactions`."""

    required_scopes = [Scope.MOBILE_MONEY_CASH_IN]

    @extend_schema(
        operation_id="mobile_money_cash_in_create",
        summary="Send money to a mobile wallet (cash-in)",
        request=CashInCreateSerializer,
        responses={202: CashInSerializer},
        tags=["mobile-money"],
    )
    @idempotent(one_transaction=True)
    def post(self, request: Request) -> Response:
        body = CashInCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        cash_in = cash_in_create(partner=self.partner, mode=self.mode, provider=data["provider"], data=data["cash_in"])
        return Response(cash_in_representation(cash_in), status=202)


class CashInDetailApi(PartnerApiView):
    """One of your cash-ins (single or from a batch) with its status history (`events`: every
    change of status, its cause and time)."""

    required_scopes = [Scope.MOBILE_MONEY_CASH_IN]

    @extend_schema(
        operation_id="mobile_money_cash_in_retrieve",
        summary="Get a cash-in",
        responses={200: CashInWithEventsSerializer},
        tags=["mobile-money"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        cash_in = (
            CashIn.objects.select_related("transaction")
            .filter(transaction__public_id=public_id, transaction__partner=self.partner, transaction__mode=self.mode)
            .first()
        )
        if cash_in is None:
            raise NotFound("No such cash-in.")
        return Response(cash_in_representation(cash_in, with_events=True))
