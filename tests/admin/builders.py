"""One of everything the console shows, built through the services where they exist (the ledger's
transactions, outcomes and outbox, partners, idempotency, the relay and a real webhook POST, the
audit log, a failed and a real login) and as stored rows where a rail's row is the input (a
callback as received, a batch item, a push target).

The data carries personal data (``MSISDNS``, ``IBANS``) and credentials (``SECRETS``) that the
pages must mask or never show. ``EXTRA_BUILDERS`` makes rows of models registered in the admin by
other apps; ``tests/admin/test_every_page.py`` fails naming any registered model left without a row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import models
from django.test import Client
from django.utils import timezone

from banking.models import BankCallback, BankTransfer, TransferBatch, TransferBatchItem
from core.money import Money
from core.outcomes import Outcome
from events.relay import relay_outbox_once
from ledger.models import ProviderCall, Transaction
from ledger.services import (
    account_get_or_create_partner_account,
    idempotency_begin,
    idempotency_complete,
    outcome_apply,
    transaction_claim,
    transaction_create,
)
from mobilemoney.models import BatchChunk, CashIn, CashInBatch, CheckoutSession, InboundCallback
from notifications.models import PushNotification, PushTarget, WebhookDelivery
from notifications.webhooks import webhook_delivery_attempt
from partners.models import ALL_SCOPES, Mode, Partner
from partners.services import partner_create, provider_connection_upsert
from payments.models import BillPayment, Quote

# Customers' phone numbers and accounts: never in full on a page for staff without the permission.
CASH_IN_MSISDN = "+221771234567"
PAYER_MSISDN = "+221781112233"
RESTRICT_MSISDN = "+221765554433"
AIRTIME_NUMBER = "770009988"  # a bill's customer reference (airtime top-up): a phone number too
MSISDNS = (CASH_IN_MSISDN, PAYER_MSISDN, RESTRICT_MSISDN, AIRTIME_NUMBER)
TRANSFER_IBAN = "SN08SN0100152000048500003035"
CREDITOR_IBAN = "SN12K00100152000025690007542"
IBANS = (TRANSFER_IBAN, CREDITOR_IBAN)
# Stored credentials: never on a page, for anyone.
BEARER = "sk_live_d0nt_show_me_4f9a8b7c"
SIGNATURE = "v1=7f3c9a1e5b2d8f4c6a0e9b3d7f1c5a2e"
PROVIDER_TOKEN = "wave_tok_9a8b7c6d5e4f3a2b"
SECRETS = (BEARER, SIGNATURE, PROVIDER_TOKEN)


@dataclass
class ConsoleData:
    partner: Partner
    cash_in: Transaction
    extra: dict[str, Any] = field(default_factory=dict)


def _transaction(partner: Partner, kind: str, provider: str, amount: int, reference: str, **extra: Any) -> Transaction:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    outgoing = kind != Transaction.Kind.COLLECTION
    return transaction_create(
        partner=partner,
        mode=Mode.TEST,
        kind=kind,
        provider=provider,
        money=Money(amount, "XOF"),
        client_reference=reference,
        hold_account=account if outgoing else None,
        **extra,
    )


def _mobile_money(partner: Partner, cash_in: Transaction) -> None:
    batch = CashInBatch.objects.create(
        partner=partner, mode=Mode.TEST, provider="wave", item_count=1, total_minor=1_500, currency="XOF"
    )
    chunk = BatchChunk.objects.create(batch=batch, number=0, provider_batch_id="wv-batch-1")
    CashIn.objects.create(
        transaction=cash_in, provider="wave", msisdn=CASH_IN_MSISDN, recipient_name="Awa Ndiaye", batch=batch,
        chunk=chunk, line=0, provider_reference="WV-PAYOUT-1",
    )  # fmt: skip
    ProviderCall.objects.create(
        rail="mobile_money", provider="wave", mode=Mode.TEST, operation="payout", reference=cash_in.public_id,
        transaction=cash_in, started_at=timezone.now(), completed_at=timezone.now() + timedelta(milliseconds=295),
        http_status=200, latency_ms=295, outcome="ok",
    )  # fmt: skip
    data = {"mobile": CASH_IN_MSISDN, "client_reference": cash_in.public_id, "token": PROVIDER_TOKEN}
    raw = json.dumps({"id": "evt_wave_1", "type": "b2b.payment_received", "data": data}).encode()
    headers = {"Authorization": f"Bearer {BEARER}", "Wave-Signature": f"t=1700000000,{SIGNATURE}"}
    delivery = InboundCallback.objects.create(provider="wave", mode=Mode.TEST, raw_body=raw, headers=headers,
                                              status="verified")  # fmt: skip
    InboundCallback.objects.create(
        provider="wave", mode=Mode.TEST, delivery=delivery, event_id="evt_wave_1", event_type="b2b.payment_received",
        raw_body=raw, headers={}, status="applied", transaction_public_id=cash_in.public_id,
        event={"kind": "cash_in", "reference": cash_in.public_id, "msisdn": CASH_IN_MSISDN, "status": "succeeded"},
        applied_at=timezone.now(),
    )  # fmt: skip
    collection = _transaction(partner, Transaction.Kind.COLLECTION, "wave", 2_500, "cart-1")
    CheckoutSession.objects.create(
        partner=partner, mode=Mode.TEST, provider="wave", transaction=collection, client_reference="cart-1",
        success_url="https://shop.example/ok", error_url="https://shop.example/ko", payer_msisdn=PAYER_MSISDN,
        restrict_payer_msisdn=RESTRICT_MSISDN, qr_payload="https://pay.wave.com/c/cos-1",
    )  # fmt: skip


def _bills(partner: Partner) -> None:
    transaction = _transaction(partner, Transaction.Kind.BILL_PAYMENT, "niirpay", 1_000, "bill-1")
    quote = Quote.objects.create(
        partner=partner, mode=Mode.TEST, biller_code="ORANGE_AIRTIME", biller_kind="airtime",
        customer_reference=AIRTIME_NUMBER, amount_minor=1_000, fee_minor=0, total_minor=1_000, currency="XOF",
        provider_quote_id="nq-1", expires_at=timezone.now() + timedelta(minutes=5), used_at=timezone.now(),
    )  # fmt: skip
    BillPayment.objects.create(
        partner=partner, mode=Mode.TEST, quote=quote, transaction=transaction, biller_code="ORANGE_AIRTIME",
        customer_reference=AIRTIME_NUMBER, receipt_number="R-1",
    )  # fmt: skip


def _banking(partner: Partner) -> None:
    out = _transaction(partner, Transaction.Kind.BANK_TRANSFER_OUT, "partner_bank", 50_000, "trf-1")
    BankTransfer.objects.create(
        transaction=out, end_to_end_id="E2E-OUT-1", beneficiary_name="Moussa Diop", iban=TRANSFER_IBAN,
        bic="SGSNSNDA", settlement="RTGS",
    )  # fmt: skip
    batch = TransferBatch.objects.create(
        partner=partner, mode=Mode.TEST, msg_id="MSG-1", message_name="pain.001.001.09",
        original_created_at=timezone.now(), nb_of_txs=1, ctrl_sum_minor=75_000, currency="XOF",
    )  # fmt: skip
    incoming = _transaction(partner, Transaction.Kind.BANK_TRANSFER_IN, "core_banking", 75_000, "")
    TransferBatchItem.objects.create(
        batch=batch, transaction=incoming, position=1, pmt_inf_id="PMT-1", end_to_end_id="E2E-IN-1",
        creditor_name="Fatou Sall", creditor_account=CREDITOR_IBAN,
    )  # fmt: skip
    body = (f"<Document><OrgnlEndToEndId>E2E-OUT-1</OrgnlEndToEndId><IBAN>{TRANSFER_IBAN}</IBAN></Document>").encode()
    BankCallback.objects.create(
        provider="partner_bank", mode=Mode.TEST, event_id="PACS002-1", body=body, status="applied",
        headers={"X-Signature": f"t=1700000000,{SIGNATURE}", "X-Api-Key": BEARER},
    )  # fmt: skip


def _notifications(partner: Partner, endpoint_url: str, cash_in: Transaction) -> None:
    relay_outbox_once()  # the relay makes the webhook deliveries of the outbox rows
    for delivery_id in WebhookDelivery.objects.filter(partner=partner).values_list("pk", flat=True):
        webhook_delivery_attempt(delivery_id)  # a real POST to the partner's endpoint
    push = PushNotification.objects.create(
        partner=partner, mode=Mode.TEST, target_kind="tokens",
        message={"title": "Paiement reçu", "body": f"Votre compte {CASH_IN_MSISDN} a reçu 1 500 XOF"},
    )  # fmt: skip
    PushTarget.objects.create(notification=push, position=0, target="fcm-device-token-1")


def build_console_data(endpoint_url: str) -> ConsoleData:
    """One row (at least) of every model of the rails, the ledger and notifications."""
    partner = partner_create(name="Acme Fintech", mode=Mode.TEST, scopes=ALL_SCOPES, webhook_url=endpoint_url).partner
    cash_in = _transaction(partner, Transaction.Kind.CASH_IN, "wave", 1_500, "order-1",
                           metadata={"msisdn": CASH_IN_MSISDN})  # fmt: skip
    assert transaction_claim(transaction=cash_in)  # a worker takes it, calls Wave, Wave calls back
    _mobile_money(partner, cash_in)
    outcome_apply(transaction=cash_in, outcome=Outcome.succeeded("WV-PAYOUT-1"), cause="callback")
    cash_in.refresh_from_db()
    lost = _transaction(partner, Transaction.Kind.CASH_IN, "wave", 3_000, "order-2")
    assert transaction_claim(transaction=lost)
    outcome_apply(transaction=lost, outcome=Outcome.unknown("read timeout"), cause="worker")
    _bills(partner)
    _banking(partner)
    begun = idempotency_begin(partner=partner, mode=Mode.TEST, key="key-1", fingerprint="f" * 64)
    idempotency_complete(record=begun.record, status=202, headers={"Content-Type": "application/json"}, body=b"{}")
    _notifications(partner, endpoint_url, cash_in)
    data = ConsoleData(partner=partner, cash_in=cash_in)
    for builder in EXTRA_BUILDERS:
        builder(data)
    return data


# --- rows of the models other apps register in the admin -------------------------------------------


def _staff_rows(data: ConsoleData) -> None:
    """A group, an audit record, a failed and a successful login (axes' attempt, failure and access
    rows), a TOTP device."""
    from django.contrib.auth import get_user_model

    from backoffice.audit import audit_record

    user_model = get_user_model()
    user = user_model.objects.create_user(username="clerk", password="a-long-clerk-password-1")
    Group.objects.get_or_create(name="auditors-of-tests")
    audit_record(actor=None, action="tests.console_data", target=f"partner:{data.partner.public_id}")
    client = Client()
    client.post("/admin/login/", {"username": "intruder", "password": "wrong-password"})
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.post("/admin/login/", {"username": "clerk", "password": "a-long-clerk-password-1"})
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    from axes.models import AccessFailureLog

    if not AccessFailureLog.objects.exists():  # written only when AXES_ENABLE_ACCESS_FAILURE_LOG is on
        AccessFailureLog.objects.create(username="intruder", ip_address="198.51.100.7", user_agent="curl",
                                        path_info="/admin/login/", locked_out=False)  # fmt: skip


def _provider_connection(data: ConsoleData) -> None:
    provider = partner_create(name="Wave Senegal", mode=Mode.TEST, scopes=[]).partner
    provider_connection_upsert(
        partner=provider, mode=Mode.TEST, connector="wave", base_url="https://api.wave.example/",
        credentials={"api_key": PROVIDER_TOKEN, "webhook_secret": BEARER},
    )  # fmt: skip


def _approval_request(data: ConsoleData) -> None:
    from django.apps import apps

    if not apps.is_installed("approvals"):
        return
    from django.contrib.auth import get_user_model

    model = apps.get_model("approvals", "ApprovalRequest")
    maker = get_user_model().objects.create_user(username="maker", password="a-long-maker-password-1")
    model.objects.create(
        action="force_resolve", target=data.cash_in.public_id, reason="the provider says it paid",
        maker=maker, expires_at=timezone.now() + timedelta(hours=24),
    )  # fmt: skip


def _report_file(data: ConsoleData) -> None:
    from django.apps import apps

    if apps.is_installed("reporting"):
        model = apps.get_model("reporting", "ReportFile")
        model.objects.create(kind="journal", file_format="csv", parameters={"partner": data.partner.code})


def _reconciliation(data: ConsoleData) -> None:
    """A run of Wave's day with a match and a break (as the reconciliation service stores them)."""
    from django.apps import apps

    if not apps.is_installed("reconciliation"):
        return
    run_model, break_model, match_model = (
        apps.get_model("reconciliation", name)
        for name in ("ReconciliationRun", "ReconciliationBreak", "ReconciliationMatch")
    )
    now = timezone.now()
    run = run_model.objects.create(
        provider="wave", mode=Mode.TEST, business_date=now.date(), source="api", verdict="breaks", provider_lines=2,
        ledger_transactions=2, matched=1, counts={"amount_differs": 1}, started_at=now, finished_at=now,
    )  # fmt: skip
    match_model.objects.create(
        run=run, transaction=data.cash_in, provider_reference="WV-PAYOUT-1", amount_minor=1_500, currency="XOF"
    )
    break_model.objects.create(
        break_id="brk_test_1", provider="wave", mode=Mode.TEST, business_date=now.date(), kind="amount_differs",
        transaction=data.cash_in, reference=data.cash_in.public_id, currency="XOF", ledger_amount_minor=1_500,
        provider_amount_minor=1_600, first_run=run, last_run=run, first_seen_at=now,
    )  # fmt: skip


EXTRA_BUILDERS: list[Callable[[ConsoleData], None]] = [
    _reconciliation,
    _staff_rows,
    _approval_request,
    _provider_connection,
    _report_file,
]


def models_without_rows(registered: list[type[models.Model]]) -> list[str]:
    return [model._meta.label for model in registered if not model._default_manager.exists()]
