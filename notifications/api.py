"""Partner API of push notifications: ``POST /api/v1/notifications/push`` and ``GET …/push/{id}``."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from ledger.idempotency import idempotent
from notifications.models import PushNotification
from notifications.push import push_create, push_representation
from notifications.serializers import PushCreateSerializer
from partners.api_base import PartnerApiView

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="1-255 characters"
)


class PushCreateApi(PartnerApiView):
    """Accept a push (validated first: 400 and nothing sent), answer 202; FCM is called by a task."""

    required_scopes = ["notifications.push"]

    @extend_schema(
        tags=["notifications"],
        parameters=[IDEMPOTENCY_KEY],
        request=PushCreateSerializer,
        responses={202: OpenApiTypes.OBJECT},
        summary="Send a push: {tokens[] | topic | condition, title, body, data{}, options{android, apns}}",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = PushCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # 400 problem+json listing every field error
        notification = push_create(partner=self.partner, mode=self.mode, **serializer.validated_data)
        return Response(push_representation(notification), status=202)


class PushDetailApi(PartnerApiView):
    """A push of this partner in this mode, with the result of every target."""

    required_scopes = ["notifications.push"]

    @extend_schema(
        tags=["notifications"],
        responses={200: OpenApiTypes.OBJECT},
        summary="A push with the result of every target (message id or FCM error code)",
    )
    def get(self, request: Request, public_id: str) -> Response:
        notification = PushNotification.objects.filter(
            public_id=public_id, partner=self.partner, mode=self.mode
        ).first()
        if notification is None:
            raise NotFound(f"No push notification {public_id}.")
        return Response(push_representation(notification))
