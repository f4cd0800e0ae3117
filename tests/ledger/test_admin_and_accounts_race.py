"""The ledger in the admin (view only) and accounts created concurrently (one account, one top-up)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, models
from django.test import Client
from django.urls import reverse

from ledger.models import (
    Account,
    Hold,
    IdempotencyRecord,
    LedgerEntry,
    OutboxEvent,
    Posting,
    Transaction,
    TransactionEvent,
)
from ledger.selectors import ledger_check
from ledger.services import account_get_or_create_partner_account, idempotency_begin, transaction_transition
from partners.models import Mode, Partner

MODELS = [Transaction, TransactionEvent, Account, Posting, LedgerEntry, Hold, IdempotencyRecord, OutboxEvent]


@pytest.fixture
def books(partner: Partner, create_outgoing: Callable[..., Transaction]) -> Transaction:
    transaction = create_outgoing(amount=1_000, fee=25)
    transaction_transition(transaction=transaction, to_status="processing", cause="worker")
    transaction_transition(transaction=transaction, to_status="succeeded", cause="callback")
    idempotency_begin(partner=partner, mode="live", key="k", fingerprint="f" * 64)
    return transaction


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_every_ledger_model_is_listed_and_viewable_but_never_editable(
    staff_client: Client, books: Transaction, model: type[models.Model]
) -> None:
    opts = model._meta
    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model._default_manager.first()
    assert obj is not None
    change = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content  # view only
    add = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    assert add.status_code == 403
    delete = staff_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_the_transaction_page_shows_its_history(staff_client: Client, books: Transaction) -> None:
    page = staff_client.get(reverse("admin:ledger_transaction_change", args=[books.pk]))
    content = page.content.decode()
    assert books.public_id in content
    assert content.count("succeeded") >= 1 and "callback" in content


def test_filters_work_on_the_transaction_list(staff_client: Client, books: Transaction) -> None:
    url = reverse("admin:ledger_transaction_changelist")
    assert books.public_id in staff_client.get(url, {"status__exact": "succeeded"}).content.decode()
    assert books.public_id not in staff_client.get(url, {"status__exact": "failed"}).content.decode()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_use_creates_one_account_with_one_top_up() -> None:
    partner = Partner.objects.create(name="Twin", code="twin")
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    seen: list[int] = []
    lock = threading.Lock()

    def first_use() -> None:
        try:
            barrier.wait(timeout=30)
            account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
            with lock:
                seen.append(account.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_use) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(seen) == threads_count and len(set(seen)) == 1
    account = Account.objects.get(kind="partner", partner=partner)
    assert account.balance_minor == 1_000_000_000
    assert Posting.objects.filter(description="sandbox top-up").count() == 1
    assert ledger_check().is_ok
