"""Partner API routes of the banking app (mounted under /api/v1/banking/ by config/urls.py)."""

from django.urls import path

from banking import apis

urlpatterns = [
    path("transfer-batches", apis.TransferBatchCreateApi.as_view(), name="banking-batch-create"),
    path("transfer-batches/<str:batch_id>", apis.TransferBatchDetailApi.as_view(), name="banking-batch-detail"),
    path(
        "transfer-batches/<str:batch_id>/status-report",
        apis.TransferBatchStatusReportApi.as_view(),
        name="banking-batch-status-report",
    ),
    path("transfers", apis.TransferCreateApi.as_view(), name="banking-transfer-create"),
    path("transfers/<str:transfer_id>", apis.TransferDetailApi.as_view(), name="banking-transfer-detail"),
]
