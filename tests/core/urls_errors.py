"""A URLconf for error-format tests: real DRF views that fail in each documented way."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from config.urls import urlpatterns as real_urlpatterns


class ItemSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    count = serializers.IntegerField(min_value=1)


class EchoApi(APIView):
    parser_classes = [JSONParser]

    def post(self, request):  # type: ignore[no-untyped-def]
        serializer = ItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class AlwaysThrottled(BaseThrottle):
    def allow_request(self, request, view):  # type: ignore[no-untyped-def]
        return False

    def wait(self):  # type: ignore[no-untyped-def]
        return 7.2


class ThrottledApi(APIView):
    throttle_classes = [AlwaysThrottled]

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({})


class BoomApi(APIView):
    def get(self, request):  # type: ignore[no-untyped-def]
        secret_local = "db-password-hunter2"  # must never reach the response
        raise RuntimeError(f"kaboom with {secret_local}")


def plain_boom(request):  # type: ignore[no-untyped-def]
    raise ValueError("plain django view failure /srv/app/secret.py")


urlpatterns = [
    path("t/echo", EchoApi.as_view()),
    path("t/throttled", ThrottledApi.as_view()),
    path("t/boom", BoomApi.as_view()),
    path("t/plain-boom", plain_boom),
    path("", include(real_urlpatterns)),
]

handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
