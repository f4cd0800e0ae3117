"""Our ``PushMessage`` as firebase-admin message objects (the SDK encodes them to FCM v1 JSON).

Android TTL becomes ``"<seconds>s"``, APNs priority and collapse id become the ``apns-priority``
and ``apns-collapse-id`` headers, badge/sound/category/thread-id go into ``aps``
(docs/providers/fcm.md §5, and the SDK's ``firebase_admin/_messaging_encoder.py``).
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from firebase_admin import messaging

from notifications.providers.base import AndroidOptions, ApnsOptions, PushMessage


def message_parts(message: PushMessage) -> dict[str, Any]:
    """Keyword arguments shared by ``messaging.Message`` and ``messaging.MulticastMessage``."""
    notification = None
    if message.title or message.body:
        notification = messaging.Notification(title=message.title, body=message.body)
    return {
        "data": dict(message.data) or None,
        "notification": notification,
        "android": _android(message.android) if message.android else None,
        "apns": _apns(message.apns) if message.apns else None,
    }


def multicast_message(message: PushMessage, tokens: list[str]) -> messaging.MulticastMessage:
    """A multicast to device registration tokens.

    firebase-admin 7.5+ deprecates ``tokens`` in favour of ``fids`` (Firebase installation ids).
    Our partners hold FCM registration tokens, not installation ids, and FCM v1 still takes
    them in ``message.token``; ``fids`` would put a token where FCM expects an installation id.
    So we keep ``tokens`` and silence exactly that one warning, here only (the SDK does the same
    for ``Message.token`` inside ``send_each_for_multicast``).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"MulticastMessage\.tokens is deprecated", category=DeprecationWarning
        )
        return messaging.MulticastMessage(tokens=tokens, **message_parts(message))


def _android(options: AndroidOptions) -> messaging.AndroidConfig:
    notification_fields = {
        "channel_id": options.channel_id,
        "sound": options.sound,
        "tag": options.tag,
        "click_action": options.click_action,
        "color": options.color,
        "icon": options.icon,
    }
    has_notification = any(value is not None for value in notification_fields.values())
    return messaging.AndroidConfig(
        collapse_key=options.collapse_key,
        priority=options.priority,
        ttl=timedelta(seconds=options.ttl_seconds) if options.ttl_seconds is not None else None,
        notification=messaging.AndroidNotification(**notification_fields) if has_notification else None,
    )


def _apns(options: ApnsOptions) -> messaging.APNSConfig:
    headers = {}
    if options.priority is not None:
        headers["apns-priority"] = str(options.priority)
    if options.collapse_id is not None:
        headers["apns-collapse-id"] = options.collapse_id
    aps = messaging.Aps(
        badge=options.badge,
        sound=options.sound,
        category=options.category,
        thread_id=options.thread_id,
        content_available=options.content_available or None,
        mutable_content=options.mutable_content or None,
    )
    return messaging.APNSConfig(headers=headers or None, payload=messaging.APNSPayload(aps=aps))
