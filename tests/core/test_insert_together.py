"""core/db.py ``insert_together``: several rows, of one model or several, in ONE statement, which
succeeds or fails as a whole."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.db import insert_together
from partners.models import Partner, PartnerLimit

pytestmark = pytest.mark.django_db


def test_rows_of_several_models_in_one_statement_the_last_gets_its_id() -> None:
    first = Partner(name="First", code="first-together")
    first.save()
    second = Partner(name="Second", code="second-together")
    limit = PartnerLimit(partner=first, mode="test", rail="mobile_money", currency="XOF", max_per_day_minor=10)
    with CaptureQueriesContext(connection) as captured:
        insert_together(second, limit)
    assert len(captured.captured_queries) == 1
    assert captured.captured_queries[0]["sql"].startswith("WITH w0 AS (INSERT INTO")
    assert second.pk is None and limit.pk is not None  # only the last one's id comes back
    assert PartnerLimit.objects.get(pk=limit.pk).max_per_day_minor == 10
    assert Partner.objects.filter(code="second-together").exists()
    assert not second._state.adding and not limit._state.adding


def test_one_failing_row_writes_none_of_them() -> None:
    Partner.objects.create(name="Taken", code="taken-code")
    before = Partner.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_together(Partner(name="New", code="new-code"), Partner(name="Clash", code="taken-code"))
    assert Partner.objects.count() == before


def test_nothing_to_insert_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        insert_together()
