"""Delivery of the simulators' callbacks to the gateway, with retries like real providers."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core.errors import ProviderError
from core.http import ProviderHttpClient, Timeouts
from sandbox.models import SimCallback

logger = logging.getLogger("sandbox.callbacks")
MAX_ATTEMPTS = 8


@shared_task(name="sandbox.callback_deliver", bind=True, max_retries=MAX_ATTEMPTS)
def callback_deliver(self, callback_id: int) -> str:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        callback = SimCallback.objects.select_for_update(skip_locked=True).filter(pk=callback_id).first()
        if callback is None or callback.status != SimCallback.Status.PENDING:
            return "skipped"
        callback.attempts += 1
        callback.save(update_fields=["attempts"])
    client = ProviderHttpClient(
        provider="sandbox-" + callback.provider, base_url=callback.url, timeouts=Timeouts(2, 10)
    )
    status = 0
    try:
        response = client.request(
            "POST",
            "",
            operation="callback",
            data=bytes(callback.body),
            headers=callback.headers,
            raise_for_status=False,
        )
        status = response.status
    except ProviderError as exc:
        logger.info("sandbox callback %s not delivered: %s", callback_id, exc)
    finally:
        client.close()
    if 200 <= status < 300:
        SimCallback.objects.filter(pk=callback_id).update(
            status=SimCallback.Status.DELIVERED, last_status_code=status, delivered_at=timezone.now()
        )
        return "delivered"
    SimCallback.objects.filter(pk=callback_id).update(last_status_code=status or None)
    if 400 <= status < 500 or self.request.retries >= MAX_ATTEMPTS:
        SimCallback.objects.filter(pk=callback_id).update(status=SimCallback.Status.FAILED)
        return "failed"
    raise self.retry(countdown=min(2**self.request.retries, 60))
