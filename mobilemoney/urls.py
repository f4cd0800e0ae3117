"""Partner API routes of the mobilemoney app (mounted under /api/v1/mobile-money/ by config/urls.py)."""

from django.urls import path

from mobilemoney.apis import batches, cash_ins, checkout

urlpatterns = [
    path("cash-ins", cash_ins.CashInCreateApi.as_view(), name="mm-cash-in-create"),
    path("cash-ins/<str:public_id>", cash_ins.CashInDetailApi.as_view(), name="mm-cash-in-detail"),
    path("cash-in-batches", batches.BatchCreateApi.as_view(), name="mm-batch-create"),
    path("cash-in-batches/<str:public_id>", batches.BatchDetailApi.as_view(), name="mm-batch-detail"),
    path("cash-in-batches/<str:public_id>/items", batches.BatchItemsApi.as_view(), name="mm-batch-items"),
    path("cash-in-batches/<str:public_id>/retry", batches.BatchRetryApi.as_view(), name="mm-batch-retry"),
    path("checkout-sessions", checkout.CheckoutSessionListCreateApi.as_view(), name="mm-checkout-list"),
    path("checkout-sessions/<str:public_id>", checkout.CheckoutSessionDetailApi.as_view(), name="mm-checkout-detail"),
    path(
        "checkout-sessions/<str:public_id>/expire",
        checkout.CheckoutSessionExpireApi.as_view(),
        name="mm-checkout-expire",
    ),
    path(
        "checkout-sessions/<str:public_id>/refund",
        checkout.CheckoutSessionRefundApi.as_view(),
        name="mm-checkout-refund",
    ),
]
