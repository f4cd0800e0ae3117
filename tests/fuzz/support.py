"""What the hostile-input tests share: the operations that take a body, found in the URLconf and
the OpenAPI schema (so a new endpoint is covered without being named here), signed requests
through Django's test client, and a count of every table of ours (to prove nothing was created)."""

from __future__ import annotations

import re
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from clients.python.addon_partner_client import sign
from partners.models import ALL_SCOPES
from partners.services import PartnerCreated, partner_create
from tests.banking.builders import waemu_iban

WRITE_METHODS = ("post", "put", "patch")
OUR_APPS = ("partners", "ledger", "payments", "mobilemoney", "banking", "notifications", "events", "backoffice")
MISSING_ID = "zz_0000000000000000"  # a path id no object has


@dataclass(frozen=True)
class Operation:
    """A route and method that takes a body: ``/api/v1/...`` (partner API, signed) or a callback."""

    method: str
    path: str  # the OpenAPI template, ``{public_id}`` for a path parameter
    is_callback: bool = False

    @property
    def url(self) -> str:
        parts = self.path.split("/")
        return "/".join(MISSING_ID if part.startswith("{") else part for part in parts)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _openapi_path(route: str) -> str:
    route = route.replace("^", "").replace("/?$", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # a re_path's named group
    return "/" + route.replace("<str:", "{").replace(">", "}")


def body_operations() -> list[Operation]:
    """Every POST/PUT/PATCH of the partner API, and every provider callback route."""
    found: set[Operation] = set()
    for route, callback in _walk(get_resolver().url_patterns, ""):
        view = getattr(callback, "view_class", None)
        if route.startswith("api/v1/") and view is not None:
            found.update(Operation(m, _openapi_path(route)) for m in WRITE_METHODS if hasattr(view, m))
        elif route.startswith("callbacks/"):
            found.add(Operation("post", _openapi_path(route), is_callback=True))
    return sorted(found, key=str)


def openapi_document() -> dict[str, Any]:
    return dict(SchemaGenerator().get_schema(request=None, public=True))


# --- a caller ---------------------------------------------------------------------------------------


def fuzz_partner() -> PartnerCreated:
    """A test-mode partner with every scope and a rate no run of these tests reaches."""
    return partner_create(
        name=f"Hostile {uuid.uuid4().hex[:8]}", mode="test", scopes=ALL_SCOPES, rate_limit_per_minute=1_000_000
    )


class RequestTimedOut(AssertionError):
    pass


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) when the block takes longer than ``seconds`` (main thread only)."""

    def expired(signum: int, frame: Any) -> None:
        raise RequestTimedOut(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Caller:
    """Sends raw bodies through Django's test client, signed as the partner's client would sign them."""

    client: Client
    partner: PartnerCreated | None

    def send(self, operation: Operation, body: bytes, content_type: str, *, timeout: float = 20.0) -> Any:
        headers: dict[str, str] = {}
        if self.partner is not None and not operation.is_callback:
            t = int(time.time())
            signature = sign(self.partner.signing_secret, t, operation.method, operation.url, body)
            headers = {
                "Authorization": f"Bearer {self.partner.api_key}",
                "X-Signature": f"t={t},v1={signature}",
                "Idempotency-Key": f"hostile-{uuid.uuid4().hex}",
            }
        with deadline(timeout):
            return self.client.generic(
                operation.method.upper(), operation.url, data=body, content_type=content_type, headers=headers
            )


# --- what exists ------------------------------------------------------------------------------------


def our_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and model._meta.managed and not model._meta.proxy
    )


def row_counts(tables: list[str]) -> dict[str, int]:
    """The number of rows of each table, in one query."""
    quoted = ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)  # noqa: S608 - app registry names
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted}")
        values = cursor.fetchone()
    return dict(zip(tables, values, strict=True))


# --- valid bodies the hostile ones are made from ----------------------------------------------------


def valid_bodies() -> dict[str, Any]:
    """A body each operation accepts, by OpenAPI path; an operation missing here gets one built
    from its schema (``body_from_schema``), so a new endpoint is still covered."""
    batch = {
        "msg_id": "HOSTILE-1",
        "creation_datetime": "2026-11-15T08:30:00Z",
        "nb_of_txs": 1,
        "ctrl_sum": "15000",
        "initiating_party": "Sahel Distribution",
        "payment_infos": [
            {
                "pmt_inf_id": "PMT-H",
                "nb_of_txs": 1,
                "ctrl_sum": "15000",
                "requested_execution_date": "2026-11-16",
                "debtor_name": "Sahel Distribution",
                "debtor_account": "SN08SN0100152000048500003035",
                "debtor_agent_bic": "CBAOSNDA",
                "transactions": [
                    {
                        "instr_id": "I-1",
                        "end_to_end_id": "E2E-H-1",
                        "amount": "15000",
                        "currency": "XOF",
                        "creditor_name": "Awa Sow",
                        "creditor_account": waemu_iban("000300001000"),
                        "creditor_agent_bic": "CBAOSNDA",
                        "remittance_information": "Facture 11",
                    }
                ],
            }
        ],
    }
    item = {"msisdn": "+221770001234", "amount": "1500", "currency": "XOF", "client_reference": "h-1"}
    return {
        "/api/v1/mobile-money/cash-ins": {**item, "provider": "wave", "recipient_name": "Awa", "reason": "Prime"},
        "/api/v1/mobile-money/cash-in-batches": {"provider": "wave", "items": [{**item, "reason": "Prime"}]},
        "/api/v1/mobile-money/checkout-sessions": {
            "provider": "wave",
            "amount": "2500",
            "currency": "XOF",
            "client_reference": "h-cart",
            "success_url": "https://shop.example.sn/ok",
            "error_url": "https://shop.example.sn/ko",
            "restrict_payer_mobile": "+221770005555",
        },
        "/api/v1/test-helpers/checkout-sessions/{public_id}/pay": {"payer_msisdn": "+221770005555"},
        "/api/v1/bills/lookups": {"biller": "SENELEC", "customer_reference": "123456789"},
        "/api/v1/bills/quotes": {"biller": "SENELEC", "customer_reference": "123456789", "bill_id": "B-1"},
        "/api/v1/bills/payments": {"quote_id": "quo_missing", "client_reference": "h-bill"},
        "/api/v1/banking/transfers": {
            "beneficiary_name": "Moussa Sarr",
            "iban": waemu_iban("000700002000"),
            "bic": "SGSNSNDA",
            "amount": "75000",
            "currency": "XOF",
            "remittance_information": "Loyer 12",
            "end_to_end_id": "H-TR-1",
        },
        "/api/v1/banking/transfer-batches": batch,
        "/api/v1/notifications/push": {
            "tokens": ["device-ok-1"],
            "title": "Hi",
            "body": "Hello",
            "data": {"order": "42"},
            "options": {
                "android": {"priority": "high", "ttl_seconds": 60, "channel_id": "orders", "color": "#112233"},
                "apns": {"badge": 1, "sound": "default", "priority": 10},
            },
        },
        "/api/v1/events/test": {"topic": "addon-partner.test", "text": "hello"},
    }


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    for part in node.get("allOf", []):
        return resolve(document, part)
    return node


def body_from_schema(document: dict[str, Any], node: dict[str, Any]) -> Any:
    """A body of the schema's shape: required properties, the first enum value, placeholder text."""
    node = resolve(document, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        return {name: body_from_schema(document, properties[name]) for name in node.get("required", [])}
    if kind == "array":
        return [body_from_schema(document, node.get("items", {}))]
    return {"integer": 1, "number": 1, "boolean": True}.get(str(kind), "x")


def json_fields(
    document: dict[str, Any], node: dict[str, Any], where: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path, schema) of every typed leaf of a request schema; array items at index 0."""
    node = resolve(document, node)
    for combinator in ("oneOf", "anyOf"):
        if node.get(combinator):
            node = resolve(document, node[combinator][0])
    kind = node.get("type")
    if kind == "object":
        for name, child in node.get("properties", {}).items():
            yield from json_fields(document, child, (*where, name))
    elif kind == "array":
        yield from json_fields(document, node.get("items", {}), (*where, 0))
    elif kind in ("string", "integer", "number") or "enum" in node:
        yield where, node
