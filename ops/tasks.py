from __future__ import annotations

from celery import shared_task

from ops.services import provider_floats_refresh


@shared_task(name="ops.refresh_provider_floats")
def refresh_provider_floats() -> int:
    return provider_floats_refresh()
