"""A day of traffic through every rail, made by the rails' own services against the sandbox
over real HTTP (live_server): cash-ins through Wave and Orange Money, bills through Niirpay,
transfers out through the partner bank, a received batch credited through core banking.

The last four digits of each recipient choose the simulator's behaviour (docs/sandbox.md):
9901 refused, 9902 answer lost then found by the poller, 9906 recorded with another amount,
9907 left out of the provider's record of the day.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from banking.demo import banking_sandbox_connect
from banking.services import batch_receive
from banking.services.transfers import TransferRequest, transfer_create
from banking.tasks import poll_unresolved, send_transfer
from core.money import Money
from ledger.models import Transaction
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_create, cash_in_process, cash_in_resolve
from mobilemoney.validation import CashInInput
from partners.models import Partner
from partners.services import partner_create
from payments.demo import niirpay_sandbox_connect
from payments.models import BillPayment
from payments.services import bill_payment_create, bill_payment_execute, quote_create
from tests.banking.builders import waemu_iban
from tests.banking.test_api_batches import credit_all, pain001
from tests.mobilemoney.api_support import connect_providers

PROVIDERS = ("core_banking", "niirpay", "orange_money", "partner_bank", "wave")
AMOUNT = 1500


@dataclass
class Day:
    partner: Partner
    made: list[Transaction]

    def of(self, provider: str) -> list[Transaction]:
        return [Transaction.objects.get(pk=t.pk) for t in self.made if t.provider == provider]


def connect_everything(live_server: Any, settings: Any) -> Day:
    settings.SANDBOX_HANG_SECONDS = 2  # past the connections' 1.5 s read timeout (9902)
    url = live_server.url
    connect_providers(url)
    niirpay_sandbox_connect(
        sandbox_url=url + "/sandbox/", api_key=f"np_test_{secrets.token_hex(6)}", api_secret=secrets.token_hex(12)
    )
    banking_sandbox_connect(
        sandbox_url=url + "/sandbox/",
        callback_url=url + "/callbacks/partner-bank",
        settlement_delay_seconds=0.2,
        read_timeout_seconds=1.5,
    )
    partner = partner_create(name=f"Marchand {secrets.token_hex(3)}", mode="test", scopes=()).partner
    return Day(partner, [])


def cash_in(day: Day, provider: str, suffix: str) -> Transaction:
    data = CashInInput(f"+22177000{suffix}", Money(AMOUNT, "XOF"), f"ci-{provider}-{suffix}", "", "")
    created = cash_in_create(partner=day.partner, mode="test", provider=provider, data=data)
    cash_in_process(created.pk)
    day.made.append(created.transaction)
    return Transaction.objects.get(pk=created.transaction_id)


def poll_cash_in(transaction: Transaction) -> None:
    """The poller's turn (its backoff skipped): the provider's word settles the unknown."""
    cash_in = CashIn.objects.get(transaction=transaction)
    CashIn.objects.filter(pk=cash_in.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    cash_in_resolve(cash_in.pk)


def bill(day: Day, suffix: str) -> Transaction:
    quote = quote_create(
        partner=day.partner,
        mode="test",
        biller_code="ORANGE_AIRTIME",
        customer_reference=f"77123{suffix}",
        amount=Money(AMOUNT, "XOF"),
    )
    payment = bill_payment_create(
        partner=day.partner, mode="test", quote_id=quote.public_id, client_reference=f"bill-{suffix}"
    )
    bill_payment_execute(bill_payment_id=payment.pk)
    payment = BillPayment.objects.select_related("transaction").get(pk=payment.pk)
    day.made.append(payment.transaction)
    return payment.transaction


def transfer_out(day: Day, suffix: str) -> Transaction:
    request = TransferRequest(
        beneficiary_name="Grands Moulins de Dakar",
        iban=waemu_iban(f"00070000{suffix}", bank="SN048", branch="01010"),
        bic="ECOCSNDA",
        amount=Money(AMOUNT * 100, "XOF"),
        remittance_information="Facture",
        end_to_end_id=f"E2E-OUT-{suffix}",
    )
    transaction = transfer_create(partner=day.partner, mode="test", request=request)
    send_transfer(transaction.pk)
    day.made.append(transaction)
    return transaction


def settle_transfers(day: Day) -> None:
    """The partner bank settles after its delay; the banking poller reads the final statuses."""
    deadline = time.monotonic() + 10
    pending = ("pending", "processing", "unknown")
    while time.monotonic() < deadline:
        if not Transaction.objects.filter(pk__in=[t.pk for t in day.made], status__in=pending).exists():
            return
        time.sleep(0.3)
        poll_unresolved()
    raise AssertionError("transfers still unsettled")


def credits_in(day: Day, suffixes: list[str]) -> list[Transaction]:
    """A pain.001 batch from the partner bank, credited to customers through core banking."""
    txs = [(f"E2E-IN-{s}", waemu_iban(f"00050000{s}"), AMOUNT * 10) for s in suffixes]
    body = pain001("03", [("PMT-1", txs)], msg_id=f"MSG-{secrets.token_hex(4)}")
    batch = batch_receive(partner=day.partner, mode="test", body=body, content_type="application/xml")
    credit_all(batch.public_id)
    made = list(
        Transaction.objects.filter(
            provider="core_banking", partner=day.partner, client_reference__in=[t[0] for t in txs]
        )
    )
    day.made.extend(made)
    return made


def mixed_day(day: Day, *, suffixes: tuple[str, ...] = ("1234", "9901")) -> None:
    """Successes and refusals through every rail, and a Wave and an Orange Money 9902 resolved by the poller."""
    for suffix in suffixes:
        cash_in(day, "wave", suffix)
        cash_in(day, "orange_money", suffix)
        bill(day, suffix)
        transfer_out(day, suffix)
    for provider in ("wave", "orange_money"):
        poll_cash_in(cash_in(day, provider, "9902"))
    credits_in(day, list(suffixes))
    settle_transfers(day)
