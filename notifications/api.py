"""Partner API of push notifications: ``POST /api/v1/notifications/push`` and ``GET …/push/{id}``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from ledger.idempotency import idempotent
from notifications.models import PushNotification
from notifications.push import push_create, push_representation
from notifications.serializers import PushCreateSerializer, PushNotificationSerializer
from partners.api_base import PartnerApiView


class PushCreateApi(PartnerApiView):
    """Sends one notification through Firebase Cloud Messaging to device `tokens` (up to 500), to a
    `topic`, or to a `condition` on topics (exactly one of the three), with a `title`, a `body`,
    string `data` for your app and per-platform `options` (`android`, `apns`).

    Everything is checked first (`400` naming each field, nothing sent). The answer is `202` with
    one entry per target in `pending`; each becomes `delivered` (with FCM's message id), `dead`
    (the token will never work again: remove it) or `failed`."""

    required_scopes = ["notifications.push"]

    @extend_schema(
        operation_id="notifications_push_create",
        tags=["notifications"],
        request=PushCreateSerializer,
        responses={202: PushNotificationSerializer},
        summary="Send a push notification",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = PushCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # 400 problem+json listing every field error
        notification = push_create(partner=self.partner, mode=self.mode, **serializer.validated_data)
        return Response(push_representation(notification), status=202)


class PushDetailApi(PartnerApiView):
    """A push notification you sent, with the result of every target: FCM's message id when
    delivered, or FCM's error code, and the number of attempts."""

    required_scopes = ["notifications.push"]

    @extend_schema(
        operation_id="notifications_push_retrieve",
        tags=["notifications"],
        responses={200: PushNotificationSerializer},
        summary="Get a push notification and its results",
    )
    def get(self, request: Request, public_id: str) -> Response:
        notification = PushNotification.objects.filter(
            public_id=public_id, partner=self.partner, mode=self.mode
        ).first()
        if notification is None:
            raise NotFound(f"No push notification {public_id}.")
        return Response(push_representation(notification))
