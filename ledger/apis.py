"""Partner API of the ledger: who am I, my transactions, my balances (docs/architecture.md §5).

A partner sees only its own rows in the mode of its key; anything else is 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.pagination import CursorPaginator
from core.errors import NotFound
from core.money import format_minor
from ledger.balances import provider_floats
from ledger.selectors import account_list_for_partner, transaction_get, transaction_list
from ledger.serializers import (
    BalancesSerializer,
    MeSerializer,
    TransactionListQuerySerializer,
    TransactionPageSerializer,
    TransactionWithEventsSerializer,
    account_representation,
    transaction_representation,
)
from ledger.services import account_get_or_create_partner_account
from partners.api_base import PartnerApiView
from partners.models import Scope


class MeApi(PartnerApiView):
    """Who the key belongs to: your partner id and name, the key's mode (`test` or `live`) and
    scopes, your rate limit and webhook URL; a quick way to check your credentials."""

    required_scopes = ()

    @extend_schema(
        operation_id="me_retrieve", summary="Get your partner profile", responses=MeSerializer, tags=["account"]
    )
    def get(self, request: Request) -> Response:
        partner = self.partner
        return Response(
            {
                "partner_id": partner.public_id,
                "name": partner.name,
                "code": partner.code,
                "status": partner.status,
                "mode": self.mode,
                "scopes": sorted(self.partner_auth.scopes),
                "rate_limit_per_minute": partner.rate_limit_per_minute,
                "webhook_url": partner.webhook_url or None,
                "sandbox": self.mode == "test" and settings.SANDBOX_ENABLED,
            }
        )


class TransactionListApi(PartnerApiView):
    """Your transactions of every rail in the mode of your key, newest first, a page at a time
    (`?limit=&cursor=`), filtered by `kind`, `status`, `provider`, `client_reference` and a
    creation window (`created_after` inclusive, `created_before` exclusive; ISO 8601)."""

    paginator = CursorPaginator(key="public_id")
    required_scopes = [Scope.TRANSACTIONS_READ]

    @extend_schema(
        operation_id="transactions_list",
        summary="List your transactions",
        parameters=[TransactionListQuerySerializer],
        responses=TransactionPageSerializer,
        tags=["transactions"],
    )
    def get(self, request: Request) -> Response:
        query = TransactionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters: dict[str, Any] = query.validated_data
        rows = transaction_list(partner=self.partner, mode=self.mode)
        for name in ("kind", "status", "provider", "client_reference"):
            if filters.get(name):
                rows = rows.filter(**{name: filters[name]})
        if filters.get("created_after"):
            rows = rows.filter(created_at__gte=filters["created_after"])
        if filters.get("created_before"):
            rows = rows.filter(created_at__lt=filters["created_before"])
        page = self.paginator.page(rows, limit=filters["limit"], cursor=filters.get("cursor"))
        return Response(page.body([transaction_representation(t) for t in page.rows]))


class TransactionDetailApi(PartnerApiView):
    """One transaction of any rail with its `events`: every change of status, its cause (`api`,
    `worker`, `callback`, `poller`, `staff`) and its time."""

    required_scopes = [Scope.TRANSACTIONS_READ]

    @extend_schema(
        operation_id="transactions_retrieve",
        summary="Get a transaction and its history",
        responses=TransactionWithEventsSerializer,
        tags=["transactions"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        txn = transaction_get(partner=self.partner, mode=self.mode, public_id=public_id)
        if txn is None:
            raise NotFound("No such transaction.")
        return Response(transaction_representation(txn, with_events=True))


class BalanceApi(PartnerApiView):
    """Your accounts in the mode of your key: `balance`, `held` (amounts of movements still in
    progress), `available` (balance minus held) and `overdraft_limit`; and the gateway's float
    at each provider (`available: false` with an `error` when a provider did not answer)."""

    required_scopes = [Scope.BALANCES_READ]

    @extend_schema(
        operation_id="balances_retrieve", summary="Get your balances", responses=BalancesSerializer, tags=["account"]
    )
    def get(self, request: Request) -> Response:
        # Every partner has its XOF account from the first look (a test one starts funded).
        account_get_or_create_partner_account(partner=self.partner, mode=self.mode, currency="XOF")
        accounts = [account_representation(a) for a in account_list_for_partner(partner=self.partner, mode=self.mode)]
        floats = [
            {
                "provider": f.provider,
                "balance": format_minor(f.money.minor, f.money.currency) if f.money else None,
                "currency": f.money.currency if f.money else None,
                "available": f.money is not None,
                "error": f.error,
            }
            for f in provider_floats(mode=self.mode)
        ]
        return Response({"object": "balances", "mode": self.mode, "accounts": accounts, "provider_floats": floats})
