"""Routes of the niirpay simulator (mounted under /sandbox/niirpay/): docs/providers/niirpay.md."""

from django.urls import path

from sandbox.niirpay import settlements, views

urlpatterns = [
    path("v1/billers", views.billers, name="niirpay-billers"),
    path("v1/lookups", views.lookups, name="niirpay-lookups"),
    path("v1/quotes", views.quote_create, name="niirpay-quotes"),
    path("v1/payments", views.payment_create, name="niirpay-payments"),
    path("v1/payments/<str:reference>", views.payment_detail, name="niirpay-payment-detail"),
    path("v1/balance", views.balance, name="niirpay-balance"),
    path("v1/settlements/<str:day>", settlements.settlement_file, name="niirpay-settlements"),
]
