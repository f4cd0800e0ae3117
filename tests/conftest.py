"""Suite-wide fixtures. Real PostgreSQL and Redis; no mocks of our own code."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

# every log line of the suite is scanned for secrets and personal data (issue 17, item 5)
pytest_plugins = ["tests.log_capture", "tests.faults.options"]


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


# The rails' tests (and the end-to-end ones) leave balanced books behind them, every one of them:
# after each test that touched the database, before it is rolled back or flushed, ``ledger_check``
# must find every posting balanced and every account equal to its entries and placed holds.
BOOKS_CHECKED = (
    "payments", "mobilemoney", "banking", "conformance", "e2e", "contract", "notifications", "events", "admin",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _books_stay_balanced(request: pytest.FixtureRequest) -> Iterator[None]:
    checked = request.node.get_closest_marker("django_db") is not None and any(
        part in BOOKS_CHECKED for part in request.node.path.parts[-3:-1]
    )
    if checked:
        # the database fixture is set up before this one, so it is torn down after this check
        request.getfixturevalue("_django_db_helper")
    yield
    if checked:
        from ledger.selectors import ledger_check

        result = ledger_check()
        assert result.is_ok, f"the books do not balance after {request.node.nodeid}: {result.problems[:5]}"
