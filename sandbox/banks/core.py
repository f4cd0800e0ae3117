"""Simulated core banking system: credits to customers' accounts over HTTP/JSON.

The contract is the one documented in docs/providers/banking.md §2 (our own core's API, assumed):

- ``POST /sandbox/banks/core/v1/credits`` (``Authorization: Bearer <api key>``,
  ``Idempotency-Key: <reference>``) with ``{"reference", "account", "amount", "currency",
  "beneficiary_name", "remittance_information"}`` → ``201`` with the credit document; the same
  reference again → ``200`` and ``Idempotent-Replayed: true`` with the stored document (nothing
  posted again); the same reference with another account/amount → ``409 reference_reused``;
- ``GET /sandbox/banks/core/v1/credits/<reference>`` → ``200`` document or ``404 credit_not_found``.

A refused credit is still a processed credit: ``201 {"status": "rejected", "reason_code": …}``.
Outcomes by account number: sandbox/banks/outcomes.py. State: ``SimObject(provider=
"core_banking", kind="credit", object_id=reference)``; each posted credit is one ``SimEffect``
(``effect="credit"``), written in the same DB transaction as the credit, so a reference can
never be credited twice even when two requests race.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox.banks.accounts import CORE_PROVIDER as PROVIDER
from sandbox.banks.outcomes import decide
from sandbox.models import SimObject
from sandbox.services import (
    Outcome,
    account_for_key,
    bearer_token,
    counter_add,
    effect_record,
    fingerprint,
    hang,
    simulate_latency,
)

_REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_AMOUNT_RE = re.compile(r"^[1-9][0-9]{0,14}$")  # XOF: whole francs only
_FIELDS = ("reference", "account", "amount", "currency", "beneficiary_name")


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _request_errors(request: HttpRequest, payload: Any) -> JsonResponse | None:
    if not isinstance(payload, dict):
        return _error(400, "invalid_request", "The body must be a JSON object.")
    missing = [name for name in _FIELDS if not isinstance(payload.get(name), str) or not payload[name]]
    if missing:
        return _error(400, "invalid_request", f"Missing or non-string fields: {', '.join(missing)}.")
    if not _REFERENCE_RE.match(payload["reference"]):
        return _error(400, "invalid_request", "reference: 1 to 64 letters, digits, '_' or '-'.")
    key = request.headers.get("Idempotency-Key")
    if key is not None and key != payload["reference"]:
        return _error(400, "invalid_request", "Idempotency-Key must equal the reference.")
    if payload["currency"] != "XOF":
        return _error(400, "unsupported_currency", "This core books XOF only.")
    if not _AMOUNT_RE.match(payload["amount"]):
        return _error(400, "invalid_amount", "amount: a positive whole number of XOF, as a string.")
    return None


def _document(row: SimObject) -> dict[str, Any]:
    return dict(row.data["document"])


def _replay(row: SimObject, request_fingerprint: str) -> JsonResponse:
    if row.data["fingerprint"] != request_fingerprint:
        return _error(409, "reference_reused", "This reference was used for another account or amount.")
    response = JsonResponse(_document(row), status=200)
    response["Idempotent-Replayed"] = "true"
    return response


def _record(payload: dict[str, Any], request_fingerprint: str, reason_code: str | None) -> SimObject | None:
    """Book the credit (and its effect when posted) atomically; ``None`` if the reference exists."""
    status = "rejected" if reason_code else "posted"
    document = {
        "reference": payload["reference"],
        "status": status,
        "reason_code": reason_code,
        "posting_reference": None,
        "account": payload["account"],
        "amount": payload["amount"],
        "currency": "XOF",
        "created_at": timezone.now().isoformat(),
    }
    if status == "posted":
        document["posting_reference"] = f"CBS-{counter_add(PROVIDER, 'posting'):010d}"
    try:
        with transaction.atomic():
            row = SimObject.objects.create(
                provider=PROVIDER,
                kind="credit",
                object_id=payload["reference"],
                reference=payload["account"],
                status=status,
                data={"fingerprint": request_fingerprint, "document": document},
            )
            if status == "posted":
                amount = int(payload["amount"])
                effect_record(
                    provider=PROVIDER,
                    effect="credit",
                    reference=payload["reference"],
                    amount_minor=amount,
                    currency="XOF",
                )
    except IntegrityError:
        return None
    return row


@csrf_exempt
@require_POST
def credits_create(request: HttpRequest) -> HttpResponse:
    simulate_latency()
    if account_for_key(PROVIDER, bearer_token(request)) is None:
        return _error(401, "unauthorized", "Unknown API key.")
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        return _error(400, "invalid_request", "The body is not JSON.")
    problem = _request_errors(request, payload)
    if problem is not None:
        return problem
    request_fingerprint = fingerprint(f"{''.join(payload['account'].split()).upper()}|{payload['amount']}".encode())
    existing = SimObject.objects.filter(provider=PROVIDER, kind="credit", object_id=payload["reference"]).first()
    if existing is not None:
        return _replay(existing, request_fingerprint)
    decision = decide(payload["account"])
    if decision.outcome is Outcome.FLAKY_5XX_ONCE and counter_add(PROVIDER, f"5xx:{payload['reference']}") == 1:
        return _error(503, "temporarily_unavailable", "The core is busy; nothing was booked. Retry.")
    row = _record(payload, request_fingerprint, decision.reason_code)
    if row is None:  # a concurrent request with the same reference won the race
        row = SimObject.objects.get(provider=PROVIDER, kind="credit", object_id=payload["reference"])
        return _replay(row, request_fingerprint)
    if decision.outcome is Outcome.TIMEOUT_THEN_SUCCESS:
        hang()  # booked and committed; the caller's read timeout fires first
    return JsonResponse(_document(row), status=201)


@require_GET
def credit_detail(request: HttpRequest, reference: str) -> HttpResponse:
    simulate_latency()
    if account_for_key(PROVIDER, bearer_token(request)) is None:
        return _error(401, "unauthorized", "Unknown API key.")
    row = SimObject.objects.filter(provider=PROVIDER, kind="credit", object_id=reference).first()
    if row is None:
        return _error(404, "credit_not_found", "No credit under this reference.")
    return JsonResponse(_document(row), status=200)
