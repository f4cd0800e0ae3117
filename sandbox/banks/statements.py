"""The simulated banks' end-of-day statements: ISO 20022 camt.053.001.02 (docs/providers/banking.md §8).

- ``GET /sandbox/banks/partner/v1/statements/<YYYY-MM-DD>``: the settlement account's statement
  at the partner bank: one booked ``DBIT`` entry per transfer settled (``ACSC``) among those
  received that day;
- ``GET /sandbox/banks/core/v1/statements/<YYYY-MM-DD>``: the core banking system's statement of
  the gateway's settlement account: one booked ``DBIT`` entry per credit posted that day.

Each entry carries the bank's reference (``AcctSvcrRef``) and, under ``NtryDtls/TxDtls/Refs``, our
reference as ``TxId`` (and the ``EndToEndId``). Accounts whose number ends in ``9906`` are booked
with another amount, ``9907`` are left out (sandbox.services.record_quirk). A transfer not yet
settled is not booked, as at a real bank.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from lxml import etree

from sandbox.banks.accounts import CORE_PROVIDER, PARTNER_PROVIDER
from sandbox.banks.outcomes import decide
from sandbox.models import SimObject
from sandbox.services import (
    account_for_key,
    bearer_token,
    business_day_bounds,
    counter_add,
    recorded_amount,
    simulate_latency,
)

CAMT053_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
SETTLEMENT_IBAN = {PARTNER_PROVIDER: "SN08SN0100152000000000000017", CORE_PROVIDER: "SN08SN0100152000000000000025"}


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAMT053_NS}}}{name}", **attrs)
    if text is not None:
        element.text = text
    return element


def _entry(stmt: etree._Element, line: dict[str, Any], day: str) -> None:
    ntry = _el(stmt, "Ntry")
    _el(ntry, "Amt", str(line["amount"]), Ccy=line["currency"])
    _el(ntry, "CdtDbtInd", "DBIT")
    _el(ntry, "Sts", "BOOK")
    _el(_el(ntry, "BookgDt"), "Dt", day)
    _el(_el(ntry, "ValDt"), "Dt", day)
    _el(ntry, "AcctSvcrRef", line["bank_reference"])
    code = _el(_el(ntry, "BkTxCd"), "Domn")
    _el(code, "Cd", "PMNT")
    family = _el(code, "Fmly")
    _el(family, "Cd", "ICDT")
    _el(family, "SubFmlyCd", "ESCT")
    refs = _el(_el(_el(ntry, "NtryDtls"), "TxDtls"), "Refs")
    _el(refs, "EndToEndId", line["end_to_end_id"] or "NOTPROVIDED")
    _el(refs, "TxId", line["reference"])


def camt053(provider: str, day: str, lines: list[dict[str, Any]]) -> bytes:
    root = etree.Element(f"{{{CAMT053_NS}}}Document", nsmap={None: CAMT053_NS})
    report = _el(root, "BkToCstmrStmt")
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%S")
    number = counter_add(provider, "statement")
    header = _el(report, "GrpHdr")
    _el(header, "MsgId", f"STMT-{provider.upper()}-{number:08d}")
    _el(header, "CreDtTm", now)
    stmt = _el(report, "Stmt")
    _el(stmt, "Id", f"{day}-{number:08d}")
    _el(stmt, "CreDtTm", now)
    _el(_el(_el(stmt, "Acct"), "Id"), "IBAN", SETTLEMENT_IBAN[provider])
    total = sum(line["amount"] for line in lines)
    summary = _el(stmt, "TxsSummry")
    booked = _el(summary, "TtlDbtNtries")
    _el(booked, "NbOfNtries", str(len(lines)))
    _el(booked, "Sum", str(total))
    for line in lines:
        _entry(stmt, line, day)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _partner_lines(rows: Any) -> list[dict[str, Any]]:
    lines = []
    for row in rows:
        data = row.data
        if data["final_status"] != "ACSC" or time.time() < data["settle_at"]:
            continue
        transfer = data["transfer"]
        amount = recorded_amount(decide(transfer["creditor_account"]).account_number, int(transfer["amount"]))
        if amount is not None:
            lines.append(
                {
                    "amount": amount,
                    "currency": transfer["currency"],
                    "bank_reference": transfer["bank_reference"],
                    "reference": transfer["tx_id"],
                    "end_to_end_id": transfer["end_to_end_id"],
                }
            )
    return lines


def _core_lines(rows: Any) -> list[dict[str, Any]]:
    lines = []
    for row in rows:
        document = row.data["document"]
        if document["status"] != "posted":
            continue
        amount = recorded_amount(decide(document["account"]).account_number, int(document["amount"]))
        if amount is not None:
            lines.append(
                {
                    "amount": amount,
                    "currency": document["currency"],
                    "bank_reference": document["posting_reference"],
                    "reference": document["reference"],
                    "end_to_end_id": "",
                }
            )
    return lines


def _statement(request: HttpRequest, provider: str, kind: str, day: str) -> HttpResponse:
    simulate_latency()
    if account_for_key(provider, bearer_token(request)) is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    bounds = business_day_bounds(day)
    if bounds is None:
        return JsonResponse({"error": "invalid_date", "detail": "The date is YYYY-MM-DD."}, status=400)
    if bounds[0] > timezone.now():
        return JsonResponse({"error": "statement_not_available", "detail": "That day has not begun."}, status=404)
    rows = SimObject.objects.filter(
        provider=provider, kind=kind, created_at__gte=bounds[0], created_at__lt=bounds[1]
    ).order_by("pk")
    lines = _partner_lines(rows.iterator()) if provider == PARTNER_PROVIDER else _core_lines(rows.iterator())
    document = camt053(provider, datetime.fromisoformat(day).date().isoformat(), lines)
    return HttpResponse(document, content_type="application/xml")


@require_GET
def partner_statement(request: HttpRequest, day: str) -> HttpResponse:
    return _statement(request, PARTNER_PROVIDER, "payment", day)


@require_GET
def core_statement(request: HttpRequest, day: str) -> HttpResponse:
    return _statement(request, CORE_PROVIDER, "credit", day)
