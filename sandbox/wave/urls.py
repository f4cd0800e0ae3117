"""Routes of the Wave simulator (mounted under /sandbox/wave/): Wave's own paths
(docs/providers/wave.md §3 to §5) plus the launch page and the ``_test`` customer helper."""

from django.urls import path

from sandbox.wave import checkout, records, views

urlpatterns = [
    path("v1/payout", views.payout_create, name="sandbox-wave-payout"),
    path("v1/payout/<str:payout_id>", views.payout_get, name="sandbox-wave-payout-get"),
    path("v1/payouts/search", views.payout_search, name="sandbox-wave-payout-search"),
    path("v1/payout-batch", views.batch_create, name="sandbox-wave-batch"),
    # docs/providers/wave.md §3: both spellings of the batch status path exist in Wave's docs
    path(
        "v1/payout-batch/<str:batch_id>", views.batch_get, {"spelling": "payout-batch"}, name="sandbox-wave-batch-get"
    ),
    path(
        "v1/payouts-batch/<str:batch_id>",
        views.batch_get,
        {"spelling": "payouts-batch"},
        name="sandbox-wave-batches-get",
    ),
    path("v1/balance", views.balance, name="sandbox-wave-balance"),
    path("v1/transactions", records.transactions, name="sandbox-wave-transactions"),
    path("v1/checkout/sessions", checkout.sessions, name="sandbox-wave-sessions"),
    path("v1/checkout/sessions/search", checkout.session_search, name="sandbox-wave-session-search"),
    path("v1/checkout/sessions/<str:session_id>", checkout.session_get, name="sandbox-wave-session"),
    path("v1/checkout/sessions/<str:session_id>/expire", checkout.session_expire, name="sandbox-wave-session-expire"),
    path("v1/checkout/sessions/<str:session_id>/refund", checkout.session_refund, name="sandbox-wave-session-refund"),
    path("c/<str:session_id>", checkout.launch_page, name="sandbox-wave-launch"),
    path("_test/checkout/<str:session_id>/pay", checkout.test_pay, name="sandbox-wave-test-pay"),
]
