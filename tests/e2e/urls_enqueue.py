"""A view that enqueues a task, as every money-moving view does after commit."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from core.tasks import ping


def enqueue(request: HttpRequest) -> JsonResponse:
    ping.delay("from-request")
    return JsonResponse({"queued": True})


urlpatterns = [path("t/enqueue", enqueue)]
