"""Bills through Niirpay over real HTTP (issue 5): billers, lookups, quotes, payments.

The partner signs its requests with the client; the sandbox Niirpay is served by live_server;
the execution task is the real service, called in-process (tests/e2e/test_bills_worker.py runs
it in a real Celery worker). Every failure path asserts that no money moved.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.signals import request_started

from clients.python.addon_partner_client import AddonPartnerClient, ApiResponse
from core.ids import new_id
from ledger.models import Account, LedgerEntry, OutboxEvent, Transaction
from ledger.selectors import ledger_check
from ledger.services import account_get_or_create_partner_account
from partners.models import Mode, Partner
from partners.services import partner_create
from payments.demo import niirpay_sandbox_connect
from payments.models import BillPayment, Quote
from payments.services import Step, bill_payment_execute, bill_payment_resolve
from sandbox.niirpay.accounts import register_account
from sandbox.services import effects_count

pytestmark = pytest.mark.django_db(transaction=True)

SCOPES = ["bills.pay", "balances.read", "transactions.read"]
# biller → a customer reference of its format (docs/providers/niirpay.md §11), amount for prepaid
BILLERS = {
    "SENELEC": ("012345678912", None),
    "WOYOFAL": ("14212345678", "5000"),
    "SENEAU": ("1234567890", None),
    "CANALPLUS": ("23456789012345", "10000"),
    "ORANGE_AIRTIME": ("771234567", "1000"),
}


@dataclass
class Bills:
    """A test-mode partner with its signing client, and the sandbox Niirpay account behind it."""

    partner: Partner
    client: AddonPartnerClient
    sandbox_url: str
    api_key: str
    api_secret: str
    status_queries: list[str] = field(default_factory=list)
    _sent: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def account(self) -> Account:
        return account_get_or_create_partner_account(partner=self.partner, mode=Mode.TEST, currency="XOF")

    def money(self) -> tuple[int, int, int]:
        """(balance, held, ledger entries of the partner's account)."""
        account = self.account()
        return account.balance_minor, account.held_minor, LedgerEntry.objects.filter(account=account).count()

    def knobs(self, **knobs: Any) -> None:
        register_account(api_key=self.api_key, api_secret=self.api_secret, **knobs)

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> ApiResponse:
        # The gateway refuses an identical request signed in the same second (a replay): wait for the next.
        sent = (path, json.dumps(body, sort_keys=True))
        with self._lock:
            if int(self._sent.get(sent, -1)) == int(time.time()):
                time.sleep(1.05 - time.time() % 1)
            self._sent[sent] = time.time()
        return self.client.post(f"/api/v1/bills/{path}", json=body, idempotency_key=key or new_id("evt"))

    def lookup(self, biller: str, customer_reference: str) -> dict[str, Any]:
        status, _, body = self.post("lookups", {"biller": biller, "customer_reference": customer_reference})
        assert status == 200, body
        return dict(body)

    def quote(self, biller: str, customer_reference: str, amount: str | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"biller": biller, "customer_reference": customer_reference}
        if amount is None:
            request["bill_id"] = self.lookup(biller, customer_reference)["bills"][0]["bill_id"]
        else:
            request["amount"] = amount
        status, _, body = self.post("quotes", request)
        assert status == 201, body
        return dict(body)

    def pay(self, quote_id: str, key: str | None = None, **extra: Any) -> ApiResponse:
        return self.post("payments", {"quote_id": quote_id, **extra}, key)

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        status, _, body = self.client.get(f"/api/v1/bills/payments/{payment_id}")
        assert status == 200, body
        return dict(body)


def bills_setup(live_server: Any, *, read_timeout: float = 1.5, **knobs: Any) -> Bills:
    created = partner_create(name=f"Shop {secrets.token_hex(3)}", mode=Mode.TEST, scopes=SCOPES)
    api_key, api_secret = f"np_test_{secrets.token_hex(8)}", f"np_secret_{secrets.token_hex(12)}"
    sandbox_url = live_server.url + "/sandbox/"
    niirpay_sandbox_connect(
        sandbox_url=sandbox_url, api_key=api_key, api_secret=api_secret, read_timeout_seconds=read_timeout, **knobs
    )
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret)
    return Bills(created.partner, client, sandbox_url, api_key, api_secret)


@pytest.fixture
def bills(live_server: Any, settings: Any) -> Iterator[Bills]:
    settings.SANDBOX_HANG_SECONDS = 2.0  # past the connection's 1.5 s read timeout (9902)
    setup = bills_setup(live_server)

    def record(sender: Any, environ: dict[str, Any] | None = None, **_: Any) -> None:
        path = (environ or {}).get("PATH_INFO", "")
        if (environ or {}).get("REQUEST_METHOD") == "GET" and path.startswith("/sandbox/niirpay/v1/payments/"):
            setup.status_queries.append(path.rsplit("/", 1)[-1])

    request_started.connect(record, weak=False)
    yield setup
    request_started.disconnect(record)


def paid(reference: str) -> int:
    return effects_count(provider="niirpay", reference=reference, effect="bill_payment")


def execute(payment_id: str) -> Step:
    return bill_payment_execute(bill_payment_id=BillPayment.objects.get(public_id=payment_id).pk)


# --- catalogue, lookups, quotes ----------------------------------------------------------------------


def test_billers_are_listed_with_formats_and_limits_and_cached(bills: Bills) -> None:
    status, _, body = bills.client.get("/api/v1/bills/billers")

    assert status == 200
    billers = {biller["code"]: biller for biller in body["data"]}
    assert set(billers) == set(BILLERS)
    woyofal = billers["WOYOFAL"]
    assert woyofal["kind"] == "prepaid" and woyofal["category"] == "electricity"
    assert (woyofal["min_amount"], woyofal["max_amount"], woyofal["currency"]) == ("1000", "500000", "XOF")
    assert woyofal["reference_pattern"] == "^[0-9]{11}$" and woyofal["reference_example"] and woyofal["reference_label"]
    assert billers["SENELEC"]["kind"] == "bill" and billers["SENELEC"]["offers"] == []
    assert [offer["amount"] for offer in billers["CANALPLUS"]["offers"]] == ["5000", "10000", "15000", "20000", "25000"]
    assert all(biller["available"] for biller in billers.values())

    bills.knobs(unavailable_billers=("SENELEC",))  # the provider changes; our cached catalogue does not yet
    status, _, cached = bills.client.get("/api/v1/bills/billers")
    assert status == 200 and cached == body


def test_billers_need_the_bills_scope(live_server: Any) -> None:
    created = partner_create(name="No bills", mode=Mode.TEST, scopes=["transactions.read"])
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret)
    status, _, body = client.get("/api/v1/bills/billers")
    assert status == 403 and body["code"] == "scope_missing"


def test_lookup_lists_open_bills_or_prepaid_limits(bills: Bills) -> None:
    senelec = bills.lookup("SENELEC", "012345678912")
    woyofal = bills.lookup("WOYOFAL", "14212345678")

    assert senelec["customer_name"] and len(senelec["bills"]) == 2
    assert all(isinstance(bill["amount"], str) and bill["amount"].isdigit() for bill in senelec["bills"])
    assert senelec["min_amount"] is None
    assert (woyofal["bills"], woyofal["min_amount"], woyofal["max_amount"]) == ([], "1000", "500000")


@pytest.mark.parametrize(
    ("request_body", "status", "code"),
    [
        ({"biller": "NOPE", "customer_reference": "1"}, 422, "unknown_biller"),
        ({"biller": "SENELEC", "customer_reference": "12"}, 400, "invalid_customer_reference"),
        ({"biller": "SENELEC"}, 400, "validation_error"),
    ],
)
def test_bad_lookups_are_problems(bills: Bills, request_body: dict[str, Any], status: int, code: str) -> None:
    got, headers, body = bills.post("lookups", request_body)
    assert (got, body["code"]) == (status, code)
    assert headers["Content-Type"] == "application/problem+json"


def test_an_unavailable_biller_is_503_biller_unavailable_and_back_at_once(bills: Bills) -> None:
    bills.knobs(unavailable_billers=("SENEAU",))
    status, _, body = bills.post("lookups", {"biller": "SENEAU", "customer_reference": "1234567890"})
    assert (status, body["code"]) == (503, "biller_unavailable")
    quote_request = {"biller": "SENEAU", "customer_reference": "1234567890", "bill_id": "SENEAU-1"}
    status, _, body = bills.post("quotes", quote_request)
    assert (status, body["code"]) == (503, "biller_unavailable")

    bills.knobs()  # back up: the cached catalogue (which listed it unavailable) does not keep it down
    assert bills.lookup("SENEAU", "1234567890")["bills"]


def test_a_quote_prices_the_payment_and_is_stored(bills: Bills) -> None:
    quote = bills.quote("WOYOFAL", "14212345678", amount="5000")

    assert quote["id"].startswith("qte_")
    assert (quote["amount"], quote["fee"], quote["total"], quote["currency"]) == ("5000", "100", "5100", "XOF")
    stored = Quote.objects.get(public_id=quote["id"])
    assert (stored.partner_id, stored.amount_minor, stored.fee_minor, stored.total_minor) == (
        bills.partner.pk,
        5000,
        100,
        5100,
    )
    assert stored.provider_quote_id and stored.used_at is None and stored.expires_at.isoformat() == quote["expires_at"]


@pytest.mark.parametrize(("biller", "amount"), [("WOYOFAL", "999"), ("WOYOFAL", "500001"), ("CANALPLUS", "10001")])
def test_amounts_out_of_range_are_422(bills: Bills, biller: str, amount: str) -> None:
    reference = BILLERS[biller][0]
    status, _, body = bills.post("quotes", {"biller": biller, "customer_reference": reference, "amount": amount})
    assert (status, body["code"]) == (422, "amount_out_of_range")
    assert not Quote.objects.exists()


@pytest.mark.parametrize("amount", [5000, "5000.5", "-5000", ""])
def test_amounts_are_strict_decimal_strings(bills: Bills, amount: Any) -> None:
    request = {"biller": "WOYOFAL", "customer_reference": "14212345678", "amount": amount}
    status, _, body = bills.post("quotes", request)
    assert status == 400 and body["code"] in ("invalid_amount", "validation_error")


def test_a_bill_biller_needs_a_bill_id_and_a_prepaid_one_an_amount(bills: Bills) -> None:
    bill_only = {"biller": "SENELEC", "customer_reference": "012345678912", "amount": "5000"}
    amount_only = {"biller": "WOYOFAL", "customer_reference": "14212345678", "bill_id": "X"}
    assert bills.post("quotes", bill_only).status == 400
    assert bills.post("quotes", amount_only).status == 400


# --- the happy path of every biller ----------------------------------------------------------------


@pytest.mark.parametrize("biller", sorted(BILLERS))
def test_lookup_quote_pay_succeeds_with_a_receipt(bills: Bills, biller: str) -> None:
    customer_reference, amount = BILLERS[biller]
    balance, held, _ = bills.money()
    quote = bills.quote(biller, customer_reference, amount)
    total = int(quote["total"])

    status, _, accepted = bills.pay(quote["id"], client_reference="order-1")

    assert status == 202 and accepted["status"] == "pending" and accepted["id"].startswith("pay_")
    txn = accepted["transaction"]
    assert (txn["kind"], txn["provider"], txn["amount"], txn["fee"]) == (
        "bill_payment",
        "niirpay",
        quote["amount"],
        quote["fee"],
    )
    assert txn["client_reference"] == "order-1"
    assert bills.money()[:2] == (balance, held + total)  # amount + fee held

    assert execute(accepted["id"]) is Step.SUCCEEDED

    payment = bills.get_payment(accepted["id"])
    assert payment["status"] == "succeeded" and payment["transaction"]["status"] == "succeeded"
    receipt = payment["receipt"]
    assert receipt["number"] and receipt["provider_payment_id"]
    if biller == "WOYOFAL":
        assert len(receipt["tokens"]) == 3 and all(len(t) == 20 and t.isdigit() for t in receipt["tokens"])
        assert receipt["kwh"] == "54.84"
    else:
        assert receipt["tokens"] == [] and receipt["kwh"] is None
    assert bills.money()[:2] == (balance - total, held)  # captured
    assert paid(txn["id"]) == 1
    assert bills.get_payment(txn["id"])["id"] == accepted["id"]  # found by its transaction id too
    events = OutboxEvent.objects.filter(aggregate_id=txn["id"]).order_by("id").values_list("type", flat=True)
    assert list(events) == ["transaction.created", "transaction.processing", "transaction.succeeded"]
    assert ledger_check().is_ok


def test_a_paid_bill_leaves_the_open_bills_and_the_float_decreases(bills: Bills) -> None:
    before = bills.lookup("SENELEC", "012345678912")["bills"]
    quote = bills.quote("SENELEC", "012345678912")
    _, _, accepted = bills.pay(quote["id"])
    execute(accepted["id"])

    assert bills.lookup("SENELEC", "012345678912")["bills"] == before[1:]
    status, _, balances = bills.client.get("/api/v1/balances")
    assert status == 200
    floats = {item["provider"]: item for item in balances["provider_floats"]}
    assert floats["niirpay"]["balance"] == str(100_000_000 - int(quote["total"]))


def test_a_payment_request_is_idempotent(bills: Bills) -> None:
    quote = bills.quote("ORANGE_AIRTIME", "771234567", amount="1000")
    first = bills.pay(quote["id"], key="pay-once")
    again = bills.pay(quote["id"], key="pay-once")

    assert (first.status, again.status) == (202, 202)
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    assert BillPayment.objects.count() == 1 and Transaction.objects.count() == 1


# --- refusals move no money ---------------------------------------------------------------------------


def test_an_expired_quote_is_422_and_moves_no_money(bills: Bills) -> None:
    bills.knobs(quote_ttl_seconds=0)
    quote = bills.quote("WOYOFAL", "14212345678", amount="5000")
    before = bills.money()

    status, _, body = bills.pay(quote["id"])

    assert (status, body["code"]) == (422, "quote_expired")
    assert bills.money() == before and not OutboxEvent.objects.exists()
    assert not Transaction.objects.exists() and Quote.objects.get(public_id=quote["id"]).used_at is None


def test_the_same_quote_under_two_idempotency_keys_pays_once(bills: Bills) -> None:
    quote = bills.quote("CANALPLUS", "23456789012345", amount="10000")
    balance, held, _ = bills.money()

    first = bills.pay(quote["id"], key="key-1", client_reference="a")
    second = bills.pay(quote["id"], key="key-2", client_reference="b")

    assert first.status == 202
    assert (second.status, second.body["code"]) == (409, "quote_already_used")
    assert BillPayment.objects.count() == 1
    assert bills.money()[:2] == (balance, held + 10_150)


def test_concurrent_payments_of_one_quote_make_one_payment(bills: Bills) -> None:
    quote = bills.quote("ORANGE_AIRTIME", "771234567", amount="2000")
    balance, held, _ = bills.money()
    statuses: list[int] = []
    start = threading.Barrier(4)

    def pay(n: int) -> None:
        start.wait()
        statuses.append(bills.pay(quote["id"], key=f"race-{n}", client_reference=f"race-{n}").status)

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert sorted(statuses) == [202, 409, 409, 409]
    assert BillPayment.objects.count() == Transaction.objects.count() == 1
    assert bills.money()[:2] == (balance, held + 2_000)
    assert ledger_check().is_ok


def test_an_already_paid_bill_is_422_and_moves_no_money(bills: Bills) -> None:
    first = bills.quote("SENEAU", "1234567890")
    second = bills.quote("SENEAU", "1234567890")  # the same (only) open bill, quoted twice
    assert second["bill_id"] == first["bill_id"]
    _, _, accepted = bills.pay(first["id"])
    execute(accepted["id"])
    before = bills.money()

    status, _, body = bills.pay(second["id"])

    assert (status, body["code"]) == (422, "bill_already_paid")
    assert bills.money() == before
    assert Transaction.objects.count() == 1 and Quote.objects.get(public_id=second["id"]).used_at is None


def test_a_biller_down_at_payment_is_503_and_moves_no_money(bills: Bills) -> None:
    quote = bills.quote("WOYOFAL", "14212345678", amount="5000")
    bills.knobs(unavailable_billers=("WOYOFAL",))
    before = bills.money()

    status, _, body = bills.pay(quote["id"])

    assert (status, body["code"]) == (503, "biller_unavailable")
    assert bills.money() == before and not Transaction.objects.exists()
    assert Quote.objects.get(public_id=quote["id"]).used_at is None


def test_an_unknown_or_foreign_quote_is_404(bills: Bills, live_server: Any) -> None:
    quote = bills.quote("ORANGE_AIRTIME", "771234567", amount="1000")
    other = bills_setup(live_server)
    before = bills.money()

    assert bills.pay("qte_nope").status == 404
    assert other.pay(quote["id"]).status == 404
    assert bills.money() == before and not Transaction.objects.exists()


def test_insufficient_funds_is_422_and_leaves_the_quote_usable(bills: Bills) -> None:
    quote = bills.quote("SENELEC", "012345678912")
    account = bills.account()
    Account.objects.filter(pk=account.pk).update(held_minor=account.balance_minor)  # nothing left available
    try:
        status, _, body = bills.pay(quote["id"])
        assert (status, body["code"]) == (422, "insufficient_funds")
        assert not Transaction.objects.exists() and Quote.objects.get(public_id=quote["id"]).used_at is None
    finally:
        Account.objects.filter(pk=account.pk).update(held_minor=0)


def test_a_payment_of_another_partner_is_404(bills: Bills, live_server: Any) -> None:
    quote = bills.quote("ORANGE_AIRTIME", "771234567", amount="1000")
    _, _, accepted = bills.pay(quote["id"])
    other = bills_setup(live_server)
    status, _, body = other.client.get(f"/api/v1/bills/payments/{accepted['id']}")
    assert (status, body["code"]) == (404, "not_found")


# --- sandbox outcomes (docs/architecture.md §6) by the customer reference -------------------------------------------


def _accept(bills: Bills, biller: str, suffix: str) -> tuple[dict[str, Any], int]:
    example, amount = BILLERS[biller]
    quote = bills.quote(biller, example[: -len(suffix)] + suffix, amount)
    status, _, accepted = bills.pay(quote["id"])
    assert status == 202
    return accepted, int(quote["total"])


@pytest.mark.parametrize(
    ("suffix", "failure_code"), [("9901", "provider_rejected"), ("9904", "provider_insufficient_funds")]
)
def test_refusing_outcomes_fail_and_release_the_hold(bills: Bills, suffix: str, failure_code: str) -> None:
    before = bills.money()
    accepted, _ = _accept(bills, "SENELEC", suffix)

    assert execute(accepted["id"]) is Step.FAILED

    payment = bills.get_payment(accepted["id"])
    assert payment["status"] == "failed" and payment["receipt"] is None
    assert payment["transaction"]["failure"]["code"] == failure_code
    assert bills.money() == before  # released: no entry, balance and held unchanged
    assert paid(payment["transaction"]["id"]) == 0
    events = OutboxEvent.objects.filter(aggregate_id=payment["transaction"]["id"]).values_list("type", flat=True)
    assert sorted(events) == ["transaction.created", "transaction.failed", "transaction.processing"]
    assert ledger_check().is_ok


def test_9902_the_lost_answer_is_resolved_by_a_status_query(bills: Bills) -> None:
    balance, held, _ = bills.money()
    accepted, total = _accept(bills, "WOYOFAL", "9902")
    reference = accepted["transaction"]["id"]

    assert execute(accepted["id"]) is Step.UNKNOWN
    assert bills.get_payment(accepted["id"])["status"] == "unknown"
    assert bills.money()[:2] == (balance, held + total)  # still held: never failed by guess
    assert paid(reference) == 1 and bills.status_queries == []

    assert bill_payment_resolve(bill_payment_id=BillPayment.objects.get(public_id=accepted["id"]).pk) is (
        Step.SUCCEEDED
    )

    assert bills.status_queries == [reference]
    payment = bills.get_payment(accepted["id"])
    assert payment["status"] == "succeeded" and len(payment["receipt"]["tokens"]) == 3
    _, _, txn = bills.client.get(f"/api/v1/transactions/{reference}")
    last = txn["events"][-1]
    assert (last["from_status"], last["to_status"], last["cause"]) == ("unknown", "succeeded", "poller")
    assert last["detail"]["source"] == "payment_status"
    assert bills.money()[:2] == (balance - total, held) and paid(reference) == 1


def test_9903_a_5xx_then_the_same_reference_pays_once(bills: Bills) -> None:
    balance, held, _ = bills.money()
    accepted, total = _accept(bills, "SENELEC", "9903")
    reference = accepted["transaction"]["id"]

    assert execute(accepted["id"]) is Step.UNKNOWN  # a 5xx to a payment: maybe paid, maybe not
    assert paid(reference) == 0

    assert bill_payment_resolve(bill_payment_id=BillPayment.objects.get(public_id=accepted["id"]).pk) is (
        Step.SUCCEEDED
    )

    assert bills.status_queries == [reference]  # asked first: nothing recorded, so sent again
    assert paid(reference) == 1
    assert bills.money()[:2] == (balance - total, held)
    assert bills.get_payment(accepted["id"])["transaction"]["status"] == "succeeded"


def test_9905_succeeds_once(bills: Bills) -> None:
    balance, held, _ = bills.money()
    accepted, total = _accept(bills, "CANALPLUS", "9905")

    assert execute(accepted["id"]) is Step.SUCCEEDED
    assert execute(accepted["id"]) is Step.SKIPPED  # a duplicate delivery does nothing

    assert paid(accepted["transaction"]["id"]) == 1
    assert bills.money()[:2] == (balance - total, held)
