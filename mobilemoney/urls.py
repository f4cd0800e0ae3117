"""Partner API routes of the mobilemoney app (mounted under /api/v1/mobile-money/ by config/urls.py)."""

from django.urls import path

from mobilemoney.apis import cash_ins

urlpatterns = [
    path("cash-ins", cash_ins.CashInCreateApi.as_view(), name="mm-cash-in-create"),
    path("cash-ins/<str:public_id>", cash_ins.CashInDetailApi.as_view(), name="mm-cash-in-detail"),
]
