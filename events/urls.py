"""Partner API routes of the events app (mounted under /api/v1/events/ by config/urls.py)."""

from django.urls import path

from events.api import EventTestPublishApi

urlpatterns = [
    path("test", EventTestPublishApi.as_view(), name="events-test"),
]
