"""Routes of the Orange Money simulator (mounted under /sandbox/orange-money/): Sonatel's own
paths (docs/providers/orange_money.md §2 to §6) plus the link page and the ``_test`` customer helper."""

from django.urls import path

from sandbox.orange_money import qrcode_views, views

urlpatterns = [
    path("oauth/v1/token", views.token, name="sandbox-om-token"),
    path("api/account/v1/publicKeys", views.public_keys, name="sandbox-om-public-keys"),
    path("api/eWallet/v1/cashins", views.cashins, name="sandbox-om-cashins"),
    path("api/eWallet/v1/transactions", views.transactions, name="sandbox-om-transactions"),
    path(
        "api/eWallet/v1/transactions/<str:transaction_id>/status",
        views.transaction_status,
        name="sandbox-om-transaction-status",
    ),
    path("api/eWallet/v1/account/retailer/balance", views.retailer_balance, name="sandbox-om-retailer-balance"),
    path("api/eWallet/v4/qrcode", qrcode_views.qrcode_create, name="sandbox-om-qrcode"),
    path("api/eWallet/v4/qrcode/<str:qr_id>", qrcode_views.qrcode_get, name="sandbox-om-qrcode-get"),
    path("qr/<str:qr_id>", qrcode_views.link_page, name="sandbox-om-link"),
    path("_test/qrcode/<str:qr_id>/pay", qrcode_views.test_pay, name="sandbox-om-test-pay"),
]
