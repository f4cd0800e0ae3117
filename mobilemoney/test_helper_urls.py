"""Test-mode helpers of the rail, mounted under /api/v1/test-helpers/ (docs/architecture.md §5)."""

from django.urls import path

from mobilemoney.apis import checkout

urlpatterns = [
    path(
        "checkout-sessions/<str:public_id>/pay",
        checkout.CheckoutSessionSandboxPayApi.as_view(),
        name="mm-test-helper-checkout-pay",
    ),
]
