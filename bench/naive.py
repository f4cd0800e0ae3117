"""The P1 reference endpoint: DRF validation + 2 INSERTs in one DB transaction, nothing else
(no authentication, signature, idempotency, ledger or queue). Served only by bench/wsgi.py."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.urls import include, path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as real_urlpatterns
from sandbox.models import SimObject


class NaiveCashInSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=["wave", "orange_money"])
    msisdn = serializers.RegexField(r"^\+221\d{9}$")
    amount = serializers.RegexField(r"^[1-9][0-9]*$")
    currency = serializers.ChoiceField(choices=["XOF"])
    client_reference = serializers.CharField(max_length=100)


class NaiveCashInApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request: Request) -> Response:
        data = NaiveCashInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        object_id = uuid.uuid4().hex
        with transaction.atomic():
            SimObject.objects.create(provider="bench", kind="naive", object_id=object_id, data=data.validated_data)
            SimObject.objects.create(provider="bench", kind="naive-item", object_id=object_id, data={})
        return Response({"id": object_id, "status": "pending"}, status=202)


urlpatterns = [path("bench/naive-cash-ins", NaiveCashInApi.as_view()), path("", include(real_urlpatterns))]
