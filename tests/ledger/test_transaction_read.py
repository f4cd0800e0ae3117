"""GET /transactions/{id}'s read: the transaction and its whole history in ONE query
(``ledger.selectors.transaction_get``), shown exactly as the history read event by event."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Transaction
from ledger.selectors import transaction_get
from ledger.serializers import transaction_representation
from ledger.services import transaction_transition
from partners.models import Mode, Partner

pytestmark = pytest.mark.django_db


def test_one_query_and_the_same_history_in_order(partner: Partner, create_outgoing: Callable[..., Transaction]) -> None:
    txn = create_outgoing()
    for status, detail in (("processing", {"try": 1}), ("unknown", {"why": "timeout"}), ("succeeded", None)):
        txn = transaction_transition(transaction=txn, to_status=status, cause="worker", detail=detail)

    with CaptureQueriesContext(connection) as captured:
        read = transaction_get(partner=partner, mode=Mode.LIVE, public_id=txn.public_id)
        assert read is not None
        shown = transaction_representation(read, with_events=True)
    assert len(captured.captured_queries) == 1

    expected = transaction_representation(Transaction.objects.get(pk=txn.pk), with_events=True)
    assert shown == expected
    assert [e["to_status"] for e in shown["events"]] == ["pending", "processing", "unknown", "succeeded"]
    assert shown["events"][2]["detail"] == {"why": "timeout"}


def test_another_partners_transaction_is_not_found(
    other_partner: Partner, create_outgoing: Callable[..., Transaction]
) -> None:
    txn = create_outgoing()
    assert transaction_get(partner=other_partner, mode=Mode.LIVE, public_id=txn.public_id) is None
