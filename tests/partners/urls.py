"""Test-only partner API views: the authentication stack of PartnerApiView, nothing else."""

import os

from django.urls import path
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from core import health
from core.logging import partner_var
from partners.api_base import PartnerApiView


def describe(view: PartnerApiView) -> dict:
    auth = view.partner_auth
    return {
        "partner": auth.partner.public_id,
        "user": str(view.request.user),
        "mode": auth.mode,
        "scopes": sorted(auth.scopes),
        "credential": auth.credential.key_prefix,
        "log_partner": partner_var.get(),
    }


class WhoAmIApi(PartnerApiView):
    required_scopes = {"GET": ["transactions.read"], "POST": ["transactions.read"], "DELETE": ["transactions.read"]}

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response(describe(self), headers={"X-Served-By-Pid": str(os.getpid())})

    def post(self, request):  # type: ignore[no-untyped-def]
        return Response({**describe(self), "received": request.data}, status=201)

    def delete(self, request):  # type: ignore[no-untyped-def]
        return Response(status=204)


class BillsPayApi(PartnerApiView):
    required_scopes = ["bills.pay"]

    def post(self, request):  # type: ignore[no-untyped-def]
        return Response({"paid": True}, status=201)


class UploadApi(PartnerApiView):
    required_scopes = ["mobile_money.cash_in"]
    parser_classes = [MultiPartParser, JSONParser]

    def post(self, request):  # type: ignore[no-untyped-def]
        upload = request.data["file"]
        return Response({"name": upload.name, "content": upload.read().decode(), "label": request.data["label"]})


class UndeclaredScopesApi(PartnerApiView):
    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({})


urlpatterns = [
    path("health/live", health.live),
    path("t/partner/whoami", WhoAmIApi.as_view()),
    path("t/partner/bills", BillsPayApi.as_view()),
    path("t/partner/upload", UploadApi.as_view()),
    path("t/partner/undeclared", UndeclaredScopesApi.as_view()),
]

handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
