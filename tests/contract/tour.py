"""A tour of the whole partner API over real HTTP: every operation once, with valid input, as a
test-mode partner against the sandbox (connections set up by the demo seeders). The tour records
what each operation answered, keyed by its route template as the OpenAPI schema names it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from clients.python.addon_partner_client import AddonPartnerClient, ApiResponse
from mobilemoney.models import CheckoutSession
from mobilemoney.services.checkout import checkout_sync
from mobilemoney.tasks import bulk_chunk_work
from partners.demo import DemoContext, run_seeders
from partners.models import ALL_SCOPES
from partners.services import partner_create
from tests.banking.builders import waemu_iban

PREFIX = "/api/v1"
_keys = itertools.count(1)


def api_routes() -> list[tuple[str, type]]:
    """(OpenAPI path, view class) of every partner API route in the URLconf."""
    found: list[tuple[str, type]] = []

    def walk_patterns(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk_patterns(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = getattr(pattern.callback, "view_class", None)
                if view is not None:
                    found.append(("/" + route.replace("<str:", "{").replace(">", "}"), view))

    walk_patterns(get_resolver().url_patterns, "")
    return sorted(found, key=lambda item: item[0])


@dataclass
class Tour:
    client: AddonPartnerClient
    seen: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    params: dict[str, dict[str, str]] = field(default_factory=dict)  # route → the ids it was called with

    def call(self, method: str, template: str, body: Any = None, **params: str) -> Any:
        path = PREFIX + template.format(**params)
        if method == "GET":
            answer: ApiResponse = self.client.get(path)
        else:
            answer = self.client.post(path, json=body, idempotency_key=f"tour-{next(_keys)}")
        self.seen.setdefault((method.lower(), PREFIX + template), []).append(answer.status)
        self.params[PREFIX + template] = params
        return answer.body


def start(base_url: str) -> Tour:
    run_seeders(DemoContext(base_url=base_url))
    created = partner_create(name="Tourist", mode="test", scopes=ALL_SCOPES)
    return Tour(AddonPartnerClient(base_url, created.api_key, created.signing_secret))


def walk(tour: Tour) -> None:
    """Every operation of the partner API, once (list endpoints twice: a page and the next)."""
    tour.call("GET", "/me")
    tour.call("GET", "/balances")
    day = timezone.localdate().isoformat()  # the statement takes its period in the query (docs/reports.md §2)
    statement = tour.client.get(PREFIX + "/statements", params={"from": day, "to": day})
    tour.seen.setdefault(("get", PREFIX + "/statements"), []).append(statement.status)
    _bills(tour)
    _mobile_money(tour)
    _banking(tour)
    push = tour.call("POST", "/notifications/push", {"tokens": ["device-ok-1"], "title": "Hi", "body": "Tour"})
    tour.call("GET", "/notifications/push/{public_id}", public_id=push["id"])
    tour.call("POST", "/events/test", {"topic": "addon-partner.test", "text": "tour"})
    listed = tour.call("GET", "/transactions")
    tour.call("GET", "/transactions/{public_id}", public_id=listed["data"][0]["id"])


def _bills(tour: Tour) -> None:
    billers = tour.call("GET", "/bills/billers")["data"]
    biller = next(b for b in billers if b["kind"] == "bill")
    lookup = tour.call(
        "POST", "/bills/lookups", {"biller": biller["code"], "customer_reference": biller["reference_example"]}
    )
    quote = tour.call(
        "POST",
        "/bills/quotes",
        {
            "biller": biller["code"],
            "customer_reference": biller["reference_example"],
            "bill_id": lookup["bills"][0]["bill_id"],
        },
    )
    payment = tour.call("POST", "/bills/payments", {"quote_id": quote["id"]})
    tour.call("GET", "/bills/payments/{payment_id}", payment_id=payment["id"])


def _mobile_money(tour: Tour) -> None:
    cash_in = tour.call(
        "POST",
        "/mobile-money/cash-ins",
        {
            "provider": "wave",
            "msisdn": "+221770001234",
            "amount": "1500",
            "currency": "XOF",
            "client_reference": "tour-ci",
        },
    )
    tour.call("GET", "/mobile-money/cash-ins/{public_id}", public_id=cash_in["id"])
    items = [
        {"msisdn": "+221770001111", "amount": "100", "currency": "XOF", "client_reference": "tour-b1"},
        {"msisdn": "+221770009901", "amount": "200", "currency": "XOF", "client_reference": "tour-b2"},
    ]
    batch = tour.call("POST", "/mobile-money/cash-in-batches", {"provider": "orange_money", "items": items})
    tour.call("GET", "/mobile-money/cash-in-batches/{public_id}", public_id=batch["id"])
    for chunk_pk in _chunks(batch["id"]):
        bulk_chunk_work(chunk_pk)  # the worker's task body, in-process: the 9901 item fails
    tour.call("GET", "/mobile-money/cash-in-batches/{public_id}/items", public_id=batch["id"])
    tour.call("POST", "/mobile-money/cash-in-batches/{public_id}/retry", {}, public_id=batch["id"])
    session = _checkout(tour, "tour-cart-1")
    tour.call("GET", "/mobile-money/checkout-sessions")
    tour.call("GET", "/mobile-money/checkout-sessions/{public_id}", public_id=session["id"])
    tour.call(
        "POST",
        "/test-helpers/checkout-sessions/{public_id}/pay",
        {"payer_msisdn": "+221770005555"},
        public_id=session["id"],
    )
    checkout_sync(
        CheckoutSession.objects.select_related("transaction", "refund_transaction").get(public_id=session["id"])
    )
    tour.call("POST", "/mobile-money/checkout-sessions/{public_id}/refund", {}, public_id=session["id"])
    other = _checkout(tour, "tour-cart-2")
    tour.call("POST", "/mobile-money/checkout-sessions/{public_id}/expire", {}, public_id=other["id"])


def _checkout(tour: Tour, reference: str) -> Any:
    body = {
        "provider": "wave",
        "amount": "2500",
        "currency": "XOF",
        "client_reference": reference,
        "success_url": "https://shop.example.sn/ok",
        "error_url": "https://shop.example.sn/ko",
    }
    return tour.call("POST", "/mobile-money/checkout-sessions", body)


def _chunks(batch_id: str) -> list[int]:
    from mobilemoney.models import BatchChunk

    return list(BatchChunk.objects.filter(batch__public_id=batch_id).values_list("pk", flat=True))


def _banking(tour: Tour) -> None:
    document = {
        "msg_id": "TOUR-1",
        "creation_datetime": "2026-11-15T08:30:00Z",
        "nb_of_txs": 2,
        "ctrl_sum": "35000",
        "initiating_party": "Sahel Distribution",
        "payment_infos": [
            {
                "pmt_inf_id": "PMT-T",
                "nb_of_txs": 2,
                "ctrl_sum": "35000",
                "requested_execution_date": "2026-11-16",
                "debtor_name": "Sahel Distribution",
                "debtor_account": "SN08SN0100152000048500003035",
                "transactions": [
                    {"end_to_end_id": "E2E-T-1", "amount": "15000", "currency": "XOF",
                     "creditor_name": "Awa Sow", "creditor_account": waemu_iban("000300001000")},
                    {"end_to_end_id": "E2E-T-2", "amount": "20000", "currency": "XOF",
                     "creditor_name": "Moussa Diop", "creditor_account": waemu_iban("000300002000")},
                ],
            }
        ],
    }  # fmt: skip
    batch = tour.call("POST", "/banking/transfer-batches", document)
    tour.call("GET", "/banking/transfer-batches/{batch_id}", batch_id=batch["id"])
    tour.call("GET", "/banking/transfer-batches/{batch_id}/status-report", batch_id=batch["id"])
    transfer = tour.call(
        "POST",
        "/banking/transfers",
        {
            "beneficiary_name": "Fatou Ndiaye",
            "iban": waemu_iban("000700001000"),
            "bic": "SGSNSNDA",
            "amount": "250000",
            "currency": "XOF",
            "remittance_information": "Facture 2026-11",
            "end_to_end_id": "TOUR-TR-1",
        },
    )
    tour.call("GET", "/banking/transfers/{transfer_id}", transfer_id=transfer["id"])
