"""``transactions_create_bulk`` writes with COPY (ledger/services/bulk.py): the rows must be the
ones ``transaction_create`` writes for a single creation, and every refusal must write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.db import transaction as db_transaction
from django.forms.models import model_to_dict

from core.bulk_copy import copy_rows
from core.errors import Conflict, ErrorCode, InsufficientFunds
from core.money import Money
from ledger.models import Account, Hold, OutboxEvent, Transaction, TransactionEvent
from ledger.selectors import ledger_check
from ledger.services import NewTransaction, transaction_create, transactions_create_bulk
from ledger.services.transactions import transaction_payload
from partners.models import Mode, Partner
from tests.ledger.conftest import counts

# what differs between two creations by construction: keys, public ids and clocks
VARYING = {"id", "public_id", "transaction", "aggregate_id", "created_at", "updated_at"}


def _row(instance: models.Model) -> dict[str, Any]:
    """Every concrete field of a saved row, less what differs between any two creations."""
    values = model_to_dict(instance, fields=[f.name for f in instance._meta.concrete_fields])
    return {name: value for name, value in values.items() if name not in VARYING}


def _bulk(partner: Partner, account: Account | None, *items: NewTransaction, **extra: Any) -> list[int]:
    return transactions_create_bulk(
        partner=partner, mode=Mode.LIVE, kind=extra.pop("kind", Transaction.Kind.CASH_IN), provider="wave",
        items=list(items), hold_account=account, **extra,
    )  # fmt: skip


def test_bulk_rows_are_the_rows_of_a_single_creation(partner: Partner, live_account: Account) -> None:
    metadata = {"msisdn": "+221771234567", "line": 3, "batch": "cib_1"}
    single = transaction_create(
        partner=partner, mode=Mode.LIVE, kind="cash_in", provider="wave", money=Money(1_500, "XOF"),
        fee=Money(25, "XOF"), client_reference="single-1", metadata=metadata, hold_account=live_account,
    )  # fmt: skip
    [pk] = _bulk(partner, live_account, NewTransaction(Money(1_500, "XOF"), "single-1b", metadata, Money(25, "XOF")))
    bulk = Transaction.objects.get(pk=pk)

    assert {**_row(single), "client_reference": "single-1b"} == _row(bulk)
    assert bulk.metadata == metadata and bulk.status == "pending" and bulk.public_id.startswith("txn_")
    assert _row(Hold.objects.get(transaction=single)) == _row(Hold.objects.get(transaction=bulk))
    assert [_row(e) for e in single.events.all()] == [_row(e) for e in bulk.events.all()]
    single_out, bulk_out = (OutboxEvent.objects.get(aggregate_id=t.public_id) for t in (single, bulk))
    assert {**_row(single_out), "payload": None} == {**_row(bulk_out), "payload": None}
    assert bulk_out.payload == transaction_payload(bulk)  # the single creation's door builds the same payload
    assert bulk_out.public_id.startswith("evt_") and bulk_out.published_at is None
    live_account.refresh_from_db()
    assert live_account.held_minor == 2 * 1_525
    assert ledger_check().is_ok


def test_bulk_keeps_the_order_of_the_items_in_every_table(partner: Partner, live_account: Account) -> None:
    items = [NewTransaction(Money(100 + n, "XOF"), f"order-{n}") for n in range(30)]
    ids = _bulk(partner, live_account, *items)

    assert ids == sorted(ids) and len(set(ids)) == 30
    assert list(Transaction.objects.filter(pk__in=ids).order_by("pk").values_list("amount_minor", flat=True)) == [
        100 + n for n in range(30)
    ]
    assert list(TransactionEvent.objects.filter(transaction_id__in=ids).values_list("transaction_id", flat=True)) == ids
    public_ids = list(Transaction.objects.filter(pk__in=ids).order_by("pk").values_list("public_id", flat=True))
    assert list(OutboxEvent.objects.filter(aggregate_id__in=public_ids).values_list("aggregate_id", flat=True)) == (
        public_ids
    )
    assert list(Hold.objects.filter(transaction_id__in=ids).values_list("amount_minor", flat=True)) == [
        100 + n for n in range(30)
    ]


def test_bulk_beyond_the_available_balance_writes_nothing(partner: Partner, live_account: Account) -> None:
    before = {**counts(), "transactions": Transaction.objects.count(), "holds": Hold.objects.count()}
    items = [NewTransaction(Money(50_000, "XOF"), "big-1"), NewTransaction(Money(50_001, "XOF"), "big-2")]

    with pytest.raises(InsufficientFunds):
        _bulk(partner, live_account, *items)

    assert {**counts(), "transactions": Transaction.objects.count(), "holds": Hold.objects.count()} == before
    live_account.refresh_from_db()
    assert (live_account.balance_minor, live_account.held_minor) == (100_000, 0)


def test_bulk_with_a_taken_reference_is_a_409_and_writes_nothing(partner: Partner, live_account: Account) -> None:
    [taken] = _bulk(partner, live_account, NewTransaction(Money(1_000, "XOF"), "taken"))
    before = {**counts(), "transactions": Transaction.objects.count(), "holds": Hold.objects.count()}

    with pytest.raises(Conflict) as refused:
        _bulk(partner, live_account, NewTransaction(Money(1_000, "XOF"), "fresh"),
              NewTransaction(Money(1_000, "XOF"), "taken"))  # fmt: skip

    assert refused.value.code == ErrorCode.DUPLICATE_CLIENT_REFERENCE
    assert refused.value.extra["transaction_id"] == Transaction.objects.get(pk=taken).public_id
    assert {**counts(), "transactions": Transaction.objects.count(), "holds": Hold.objects.count()} == before
    live_account.refresh_from_db()
    assert live_account.held_minor == 1_000


def test_bulk_refused_inside_a_callers_transaction_leaves_the_callers_work(
    partner: Partner, live_account: Account
) -> None:
    """The batch services call it inside their own DB transaction and go on after a refusal."""
    with db_transaction.atomic():
        with pytest.raises(InsufficientFunds):
            _bulk(partner, live_account, NewTransaction(Money(100_001, "XOF"), "too-much"))
        [pk] = _bulk(partner, live_account, NewTransaction(Money(100_000, "XOF"), "just-enough"))
    assert Transaction.objects.filter(client_reference="too-much").count() == 0
    assert Hold.objects.get(transaction_id=pk).amount_minor == 100_000


def test_bulk_of_an_incoming_kind_holds_nothing(partner: Partner) -> None:
    [pk] = _bulk(partner, None, NewTransaction(Money(700, "XOF"), "", {}, Money(7, "XOF")), kind="collection")
    created = Transaction.objects.get(pk=pk)
    assert (created.kind, created.fee_minor, Hold.objects.filter(transaction=created).exists()) == (
        "collection",
        7,
        False,
    )
    assert OutboxEvent.objects.get(aggregate_id=created.public_id).payload == transaction_payload(created)


def test_bulk_refuses_what_a_single_creation_refuses(partner: Partner, live_account: Account) -> None:
    before = {**counts(), "transactions": Transaction.objects.count()}
    with pytest.raises(ValueError):
        _bulk(partner, None, NewTransaction(Money(700, "XOF"), "no-hold-account"))
    with pytest.raises(ValueError):
        _bulk(partner, live_account, NewTransaction(Money(700, "XOF"), "ok"), NewTransaction(Money(0, "XOF"), "zero"))
    assert {**counts(), "transactions": Transaction.objects.count()} == before


def test_copy_rows_refuses_to_make_a_unique_column_a_constant(partner: Partner) -> None:
    """A public id left out would be one value for every row: refused before anything is sent."""
    with pytest.raises(ValueError, match="unique"):
        copy_rows(OutboxEvent, ["type", "aggregate_type", "aggregate_id", "partner_id", "mode"],
                  [("x", "transaction", "txn_1", partner.pk, Mode.LIVE)])  # fmt: skip
    assert OutboxEvent.objects.count() == 0
