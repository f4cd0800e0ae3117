"""Suite-wide fixtures. Real PostgreSQL and Redis; no mocks of our own code."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Each test starts with the Redis database of the suite empty (rate limits, replay guard…)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.close()


@pytest.fixture
def staff_user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="staff", password="correct-horse-battery", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(client, staff_user):  # type: ignore[no-untyped-def]
    client.force_login(staff_user)
    return client
