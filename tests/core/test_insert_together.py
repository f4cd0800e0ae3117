"""core/db.py ``insert_together``: several rows, of one model or several, in ONE statement, which
succeeds or fails as a whole."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.db import Prepared, insert_new, insert_together
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


def test_a_first_row_and_the_rows_pointing_to_it_in_one_statement() -> None:
    partner = Partner(name="Parent", code="first-parent")
    prepared = Prepared(partner)  # compiled now: its auto_now_add time is set now
    created_at = partner.created_at
    limits = [
        PartnerLimit(partner=partner, mode="test", rail="mobile_money", currency="XOF", max_per_day_minor=10),
        PartnerLimit(partner=partner, mode="live", rail="mobile_money", currency="XOF", max_per_day_minor=20),
    ]
    with CaptureQueriesContext(connection) as captured:
        insert_together(*limits, first=prepared)
    assert len(captured.captured_queries) == 1
    assert captured.captured_queries[0]["sql"].startswith("WITH w_first AS (INSERT INTO")
    saved = Partner.objects.get(code="first-parent")
    assert partner.pk == saved.pk and saved.created_at == created_at
    assert sorted(PartnerLimit.objects.filter(partner=saved).values_list("max_per_day_minor", flat=True)) == [10, 20]
    assert limits[-1].pk is not None and limits[0].partner is partner and limits[0].partner_id == partner.pk


def test_a_first_row_failing_writes_none_of_them() -> None:
    Partner.objects.create(name="Taken", code="first-taken")
    partner = Partner(name="Clash", code="first-taken")
    limit = PartnerLimit(partner=partner, mode="test", rail="mobile_money", currency="XOF", max_per_day_minor=10)
    before = (Partner.objects.count(), PartnerLimit.objects.count())
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_together(limit, first=Prepared(partner))
    assert (Partner.objects.count(), PartnerLimit.objects.count()) == before
    with pytest.raises(ValueError):
        Prepared(Partner.objects.get(code="first-taken"))  # a saved row is not a new one


def test_nothing_to_insert_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        insert_together()


# ``insert_new``: rows a unique constraint may already hold, skipped; an UPDATE riding along


def test_insert_new_writes_the_new_rows_only_and_says_which() -> None:
    Partner.objects.create(name="Held", code="held-code")
    rows = [
        Partner(name="A", code="new-a"),
        Partner(name="Held again", code="held-code"),
        Partner(name="B", code="new-b"),
    ]
    with CaptureQueriesContext(connection) as captured:
        written = insert_new(rows)
    assert len(captured.captured_queries) == 1
    assert sorted(Partner.objects.filter(pk__in=written).values_list("code", flat=True)) == ["new-a", "new-b"]
    assert written == sorted(written)
    assert Partner.objects.get(code="held-code").name == "Held"  # the row already there is untouched


def test_insert_new_runs_its_update_in_the_same_statement() -> None:
    parent = Partner.objects.create(name="Parent", code="parent-code")
    with CaptureQueriesContext(connection) as captured:
        written = insert_new(
            [Partner(name="Child", code="child-code")], update=(Partner.objects.filter(pk=parent.pk), {"name": "Seen"})
        )
    assert len(captured.captured_queries) == 1
    assert captured.captured_queries[0]["sql"].startswith("WITH updated AS (UPDATE")
    assert len(written) == 1 and Partner.objects.get(pk=parent.pk).name == "Seen"
    # nothing new: the update alone, and no id
    assert insert_new([], update=(Partner.objects.filter(pk=parent.pk), {"name": "Again"})) == []
    assert Partner.objects.get(pk=parent.pk).name == "Again"


def test_insert_new_failing_leaves_the_update_undone() -> None:
    parent = Partner.objects.create(name="Parent", code="parent-two")
    limit = PartnerLimit(partner=parent, mode="test", rail="mobile_money", currency="XOF", max_per_day_minor=-5)
    with pytest.raises(IntegrityError), transaction.atomic():  # a CHECK constraint, not a unique one: not skipped
        insert_new([limit], update=(Partner.objects.filter(pk=parent.pk), {"name": "Changed"}))
    assert Partner.objects.get(pk=parent.pk).name == "Parent"
    assert not PartnerLimit.objects.filter(partner=parent).exists()


def test_insert_new_takes_one_model_and_something_to_do() -> None:
    parent = Partner.objects.create(name="Parent", code="parent-three")
    with pytest.raises(ValueError):
        insert_new([Partner(name="X", code="x-one"), PartnerLimit(partner=parent, mode="test")])
    with pytest.raises(ValueError):
        insert_new([])
