"""Partner API routes of the payments app (mounted under /api/v1/bills/ by config/urls.py)."""

from django.urls import path

from payments import apis

urlpatterns = [
    path("billers", apis.BillerListApi.as_view(), name="bills-billers"),
    path("lookups", apis.LookupCreateApi.as_view(), name="bills-lookups"),
    path("quotes", apis.QuoteCreateApi.as_view(), name="bills-quotes"),
    path("payments", apis.PaymentCreateApi.as_view(), name="bills-payments"),
    path("payments/<str:payment_id>", apis.PaymentDetailApi.as_view(), name="bills-payment-detail"),
]
