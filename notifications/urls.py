"""Partner API routes of the notifications app (mounted under /api/v1/notifications/ by config/urls.py)."""

from django.urls import path

from notifications.api import PushCreateApi, PushDetailApi

urlpatterns = [
    path("push", PushCreateApi.as_view(), name="push-create"),
    path("push/<str:public_id>", PushDetailApi.as_view(), name="push-detail"),
]
