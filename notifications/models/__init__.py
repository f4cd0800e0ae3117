from notifications.models.push import PushNotification, PushTarget
from notifications.models.webhooks import WebhookAttempt, WebhookDelivery

__all__ = ["PushNotification", "PushTarget", "WebhookAttempt", "WebhookDelivery"]
