"""A test-only creating endpoint shaped like every rail's: signed, idempotent, one service call
(transaction + hold + event + outbox in one short DB transaction), answered 202."""

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response

from config.urls import urlpatterns as real_urlpatterns
from core.money import Money
from ledger.idempotency import idempotent
from ledger.models import Kind
from ledger.serializers import transaction_representation
from ledger.services import account_get_or_create_partner_account, transaction_create
from partners.api_base import PartnerApiView


class TestCashInCreateApi(PartnerApiView):
    required_scopes = ["mobile_money.cash_in"]

    @idempotent
    def post(self, request: Request) -> Response:
        money = Money.parse(request.data.get("amount"), request.data.get("currency", "XOF"))
        account = account_get_or_create_partner_account(partner=self.partner, mode=self.mode, currency=money.currency)
        txn = transaction_create(
            partner=self.partner,
            mode=self.mode,
            kind=Kind.CASH_IN,
            provider="test",
            money=money,
            client_reference=str(request.data.get("client_reference", "")),
            hold_account=account,
        )
        return Response(transaction_representation(txn), status=202)


urlpatterns = [
    path("t/cash-ins", TestCashInCreateApi.as_view()),
    path("", include(real_urlpatterns)),
]
