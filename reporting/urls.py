"""Partner API routes of the reports (mounted under /api/v1/)."""

from django.urls import path

from reporting import apis

urlpatterns = [
    path("statements", apis.StatementApi.as_view(), name="statements"),
]
