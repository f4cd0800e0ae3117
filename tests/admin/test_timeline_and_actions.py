"""A transaction's page tells its story in time order; staff actions go through the services and
are audited: a callback that failed to apply is applied again (money moves once), a webhook is
replayed (a new attempt, the same event), and staff who may only read are offered neither."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import Permission
from django.http import HttpResponse
from django.urls import resolve, reverse

from backoffice.models import AuditRecord
from core.money import Money
from ledger.models import Hold, LedgerEntry, Transaction, TransactionEvent
from ledger.services import account_get_or_create_partner_account, transaction_claim, transaction_create
from mobilemoney.models import CashIn, InboundCallback
from notifications.models import WebhookDelivery
from notifications.webhooks import webhook_delivery_attempt
from partners.models import Mode
from tests.admin.builders import ConsoleData
from tests.admin.conftest import client_for

LINE = re.compile(
    r'<tr class="ap-timeline-line" data-model="([^"]*)">\s*<td class="ap-when">(?:<a href="([^"]+)">)?([^<]+)'
)
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def test_the_transaction_page_shows_its_timeline_in_time_order(console_data: ConsoleData, admin_user: Any) -> None:
    page = client_for(admin_user).get(reverse("admin:ledger_transaction_change", args=[console_data.cash_in.pk]))
    lines = LINE.findall(page.content.decode())
    models = [model for model, _href, _at in lines]
    moments = [at.strip() for _model, _href, at in lines]

    assert all(MOMENT.fullmatch(at) for at in moments), moments  # to the second
    assert moments == sorted(moments)
    for model in ("ledger.transactionevent", "ledger.hold", "ledger.providercall", "mobilemoney.inboundcallback",
                  "ledger.ledgerentry", "ledger.outboxevent", "notifications.webhookdelivery"):  # fmt: skip
        assert model in models, f"the timeline has no {model}: {models}"
    # created (event, hold), then the provider was called, called back, and the money moved
    first = models.index
    assert first("ledger.hold") < first("ledger.providercall") < first("mobilemoney.inboundcallback")
    assert first("mobilemoney.inboundcallback") < first("ledger.ledgerentry") < first("notifications.webhookdelivery")
    events = TransactionEvent.objects.filter(transaction=console_data.cash_in).count()
    assert models.count("ledger.transactionevent") == events == 3  # pending, processing, succeeded
    for _model, href, _at in lines:
        assert href and resolve(href), f"a timeline line without a page: {_model}"


def _flagged_callback(partner: Any) -> tuple[Transaction, InboundCallback]:
    """A cash-in Wave paid, whose callback event failed to apply (kept flagged for staff)."""
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    transaction = transaction_create(
        partner=partner, mode=Mode.TEST, kind=Transaction.Kind.CASH_IN, provider="wave", money=Money(4_000, "XOF"),
        client_reference="order-again", hold_account=account,
    )  # fmt: skip
    assert transaction_claim(transaction=transaction)
    CashIn.objects.create(transaction=transaction, provider="wave", msisdn="+221770001122")
    delivery = InboundCallback.objects.create(provider="wave", mode=Mode.TEST, raw_body=b"{}", status="verified")
    event = {"kind": "cash_in", "reference": transaction.public_id, "status": "succeeded", "provider_reference": "W-9"}
    row = InboundCallback.objects.create(
        provider="wave", mode=Mode.TEST, delivery=delivery, event_id="evt-again", event_type="payout.succeeded",
        raw_body=b"{}", event=event, status="flagged", flag_reason="could not be applied (see the log)",
    )  # fmt: skip
    return transaction, row


def _act(client: Any, model: str, action: str, pk: Any) -> HttpResponse:
    url = reverse(f"admin:{model}_changelist")
    response: HttpResponse = client.post(url, {"action": action, "_selected_action": [pk]})
    return response


def test_apply_again_goes_through_the_rail_and_moves_the_money_once(console_data: ConsoleData, operator: Any) -> None:
    transaction, row = _flagged_callback(console_data.partner)
    client = client_for(operator)
    entries_before = LedgerEntry.objects.count()

    assert _act(client, "mobilemoney_inboundcallback", "apply_again", row.pk).status_code == 302
    row.refresh_from_db()
    transaction.refresh_from_db()
    assert (row.status, row.transaction_public_id) == ("applied", transaction.public_id)
    assert transaction.status == "succeeded"
    assert Hold.objects.get(transaction=transaction).status == "captured"
    moved = LedgerEntry.objects.count() - entries_before
    assert moved > 0 and LedgerEntry.objects.filter(transaction=transaction).count() == moved
    audit = AuditRecord.objects.filter(action="callback.apply_again").order_by("-seq").first()
    assert audit is not None and audit.actor_username == operator.username
    assert audit.target == f"mobilemoney.inboundcallback:{row.pk}" and audit.data == {"result": True}

    _act(client, "mobilemoney_inboundcallback", "apply_again", row.pk)  # a second click: nothing more
    assert LedgerEntry.objects.count() - entries_before == moved
    assert TransactionEvent.objects.filter(transaction=transaction, to_status="succeeded").count() == 1


def test_staff_who_may_only_read_are_not_offered_the_actions(console_data: ConsoleData, django_user_model: Any) -> None:
    transaction, row = _flagged_callback(console_data.partner)
    reader = django_user_model.objects.create_user(username="reader", password="a-long-reader-password", is_staff=True)
    reader.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client = client_for(reader)
    page = client.get(reverse("admin:mobilemoney_inboundcallback_changelist")).content.decode()
    assert 'value="apply_again"' not in page

    _act(client, "mobilemoney_inboundcallback", "apply_again", row.pk)
    row.refresh_from_db()
    transaction.refresh_from_db()
    assert (row.status, transaction.status) == ("flagged", "processing")
    assert Hold.objects.get(transaction=transaction).status == "placed"  # nothing moved
    assert not AuditRecord.objects.filter(action="callback.apply_again").exists()


def test_replay_sends_a_delivery_again_through_the_service(
    console_data: ConsoleData, operator: Any, endpoint: Any
) -> None:
    delivery = WebhookDelivery.objects.filter(partner=console_data.partner, status="delivered").order_by("id").first()
    assert delivery is not None and delivery.attempts.count() == 1
    received_before, entries_before = len(endpoint.received), LedgerEntry.objects.count()

    assert _act(client_for(operator), "notifications_webhookdelivery", "replay", delivery.pk).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"  # queued again (the task is sent after commit)
    webhook_delivery_attempt(delivery.pk)  # what the worker runs
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert list(delivery.attempts.values_list("number", flat=True)) == [1, 2]
    assert len(endpoint.received) == received_before + 1
    assert LedgerEntry.objects.count() == entries_before  # a webhook moves no money
    audit = AuditRecord.objects.get(action="webhook.replay")
    assert audit.target == f"notifications.webhookdelivery:{delivery.public_id}"


def test_the_queue_shows_what_to_resolve_by_age_with_its_four_eyes_requests(
    console_data: ConsoleData, operator: Any
) -> None:
    lost = Transaction.objects.get(client_reference="order-2")  # the builder's unknown cash-in, created now
    client = client_for(operator)
    url = reverse("admin:ledger_transactiontoresolve_changelist")
    queue = client.get(url).content.decode()
    assert lost.public_id in queue and console_data.cash_in.public_id not in queue  # succeeded: nothing to do
    assert "ap-age-lt1h" in queue
    assert f"action=force_resolve&amp;target={lost.public_id}" in queue
    assert lost.public_id in client.get(url, {"age": "lt1h"}).content.decode()
    for older in ("1to24h", "gt24h"):
        assert lost.public_id not in client.get(url, {"age": older}).content.decode()


def test_money_and_history_rows_are_never_editable_in_the_console(console_data: ConsoleData, admin_user: Any) -> None:
    from django.contrib import admin

    client = client_for(admin_user)
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label not in ("ledger", "payments", "mobilemoney", "banking", "notifications"):
            continue
        row = model._default_manager.order_by("pk").first()
        assert row is not None, opts.label
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403, opts.label
        change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        assert b'name="_save"' not in change.content, opts.label
        delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk])
        deleted = client.post(delete, {"post": "yes"})
        assert deleted.status_code == 403 and model._default_manager.filter(pk=row.pk).exists(), opts.label
