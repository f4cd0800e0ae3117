"""Partner API routes of the ledger: me, transactions, balances (mounted under /api/v1/)."""

from django.urls import path

from ledger import apis

urlpatterns = [
    path("me", apis.MeApi.as_view(), name="me"),
    path("transactions", apis.TransactionListApi.as_view(), name="transaction-list"),
    path("transactions/<str:public_id>", apis.TransactionDetailApi.as_view(), name="transaction-detail"),
    path("balances", apis.BalanceApi.as_view(), name="balances"),
]
