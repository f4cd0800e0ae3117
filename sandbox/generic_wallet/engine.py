"""The generic-wallet simulator (docs/providers/generic-wallet.yaml), for any dialect of it.

Outcomes by the recipient's or payer's number (docs/architecture.md §6,
``sandbox.services.outcome_for``): ``…9901`` → 422 ``recipient-account-blocked``; ``…9902`` → paid, the
answer comes after the caller's read timeout; ``…9903`` → the first attempt answers 500 and
pays nothing, a retry with the same Idempotency-Key pays; ``…9904`` → 422
``insufficient-funds``; ``…9905`` → paid, the event comes late and twice; anything else → paid,
one event at once. A cash-in is a ``SimEffect`` ``cash_in`` and leaves the wallet; a paid
checkout is a ``checkout_payment`` and enters it; a refund is a ``checkout_refund``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.generic_wallet.dialect import Dialect
from sandbox.models import SimCounter, SimIdempotency, SimObject
from sandbox.services import (
    Outcome,
    SimAccount,
    account_for_key,
    bearer_token,
    callback_enqueue,
    simulate_latency,
)

DEFAULT_FLOAT_MINOR = 100_000_000
CHECKOUT_LIFETIME = timedelta(minutes=30)
ON_TIME = (0.0,)
LATE_TWICE = (5.0, 9.0)  # 9905: the same event, late, delivered twice
_MSISDN_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")
_URL_RE = re.compile(r"^https?://\S+$")
CASH_IN_FIELDS = frozenset({"reference", "msisdn", "amount", "currency", "recipient_name", "reason"})
CHECKOUT_FIELDS = frozenset({"reference", "amount", "currency", "success_url", "error_url", "payer_msisdn"})
FAILURES = {Outcome.REJECTED: "recipient-account-blocked", Outcome.INSUFFICIENT_FLOAT: "insufficient-funds"}

Answer = tuple[int, Any]
View = Callable[..., HttpResponse]


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(dialect: Dialect, kind: str) -> str:
    return f"{dialect.id_prefix}_{kind}_{secrets.token_hex(8)}"


# --- the wallet ---------------------------------------------------------------------------------


def _float_name(account: SimAccount) -> str:
    return f"float:{account.extra['wallet_id']}"


def balance_set(dialect: Dialect, account: SimAccount, amount_minor: int) -> None:
    SimCounter.objects.update_or_create(
        provider=dialect.provider, name=_float_name(account), defaults={"value": amount_minor}
    )


def balance_of(dialect: Dialect, account: SimAccount) -> int:
    row = SimCounter.objects.filter(provider=dialect.provider, name=_float_name(account)).first()
    return row.value if row else 0


def balance_move(dialect: Dialect, account: SimAccount, delta_minor: int) -> bool:
    """Add ``delta_minor`` (negative: a debit, refused when the wallet is short)."""
    with transaction.atomic():
        row, _ = SimCounter.objects.select_for_update().get_or_create(
            provider=dialect.provider, name=_float_name(account)
        )
        if row.value + delta_minor < 0:
            return False
        SimCounter.objects.filter(pk=row.pk).update(value=F("value") + delta_minor)
    return True


# --- requests -----------------------------------------------------------------------------------


def api(dialect: Dialect, *methods: str) -> Callable[[View], View]:
    """An endpoint: latency, methods, ``Authorization: Bearer <api key>`` → the account."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            simulate_latency()
            if request.method not in methods:
                return error(405, "method-not-allowed", f"{request.method} is not allowed here.")
            account = account_for_key(dialect.provider, bearer_token(request))
            if account is None:
                return error(401, "unauthorized", "A valid 'Authorization: Bearer <api key>' is required.")
            return view(request, account, *args, **kwargs)

        return endpoint

    return decorate


def json_object(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return error(400, "invalid-request", "The body is not JSON.")
    return body if isinstance(body, dict) else error(400, "invalid-request", "The body must be a JSON object.")


def amount_minor(value: Any) -> int | None:
    """A positive whole XOF amount written as a decimal string."""
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return int(amount) if amount.is_finite() and amount > 0 and amount == amount.to_integral_value() else None


def problem_of(body: dict[str, Any], fields: frozenset[str], required: tuple[str, ...]) -> JsonResponse | None:
    extra = set(body) - fields
    missing = [name for name in required if name not in body]
    if extra or missing:
        return error(400, "invalid-request", f"unknown fields {sorted(extra)}, missing {missing}")
    if not isinstance(body["reference"], str) or not _REFERENCE_RE.match(body["reference"]):
        return error(400, "invalid-request", "reference: 1-255 characters of [A-Za-z0-9_.:-]")
    if body["currency"] != "XOF":
        return error(400, "currency-not-supported", "The wallet holds XOF.")
    if amount_minor(body["amount"]) is None:
        return error(400, "invalid-request", "amount: a positive whole number as a string")
    for name in ("msisdn", "payer_msisdn"):
        if body.get(name) is not None and not (isinstance(body[name], str) and _MSISDN_RE.match(body[name])):
            return error(400, "invalid-request", f"{name}: E.164")
    for name in ("success_url", "error_url"):
        if name in body and not (isinstance(body[name], str) and _URL_RE.match(body[name])):
            return error(400, "invalid-request", f"{name}: an http(s) URL")
    return None


def idempotent(
    dialect: Dialect, account: SimAccount, key: str, body: Any, produce: Callable[[], Answer]
) -> tuple[int, Any, bool]:
    """Run ``produce`` once per key (row-locked): ``(status, body, replayed)``. Another body under
    the key → 409 ``idempotency-mismatch``; a 5xx is not kept (nothing was done)."""
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    with transaction.atomic():
        row, _ = SimIdempotency.objects.select_for_update().get_or_create(
            provider=dialect.provider, key=f"{account.extra['wallet_id']}:{key}", defaults={"fingerprint": fingerprint}
        )
        if row.fingerprint != fingerprint:
            return 409, {"code": "idempotency-mismatch", "message": "This key was used with another body."}, False
        if row.status_code is not None:
            return row.status_code, row.body, True
        status, answer = produce()
        if status >= 500:
            row.delete()
        else:
            row.status_code, row.body = status, answer
            row.save(update_fields=["status_code", "body"])
    return status, answer, False


# --- objects and events ----------------------------------------------------------------------


def store(dialect: Dialect, account: SimAccount, kind: str, obj: dict[str, Any]) -> None:
    SimObject.objects.update_or_create(
        provider=dialect.provider,
        kind=kind,
        object_id=obj["id"],
        defaults={"reference": obj["reference"], "status": obj["status"], "data": {**obj, "_account": account.api_key}},
    )


def public(row: SimObject) -> dict[str, Any]:
    return {key: value for key, value in row.data.items() if not key.startswith("_")}


def owned(dialect: Dialect, account: SimAccount, kind: str, **lookup: Any) -> Any:
    return SimObject.objects.filter(provider=dialect.provider, kind=kind, data___account=account.api_key, **lookup)


def signature(dialect: Dialect, secret: str, raw: bytes, stamp: int) -> str:
    signed = str(stamp).encode("ascii") + dialect.separator + raw
    return f"t={stamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def event_send(
    dialect: Dialect, account: SimAccount, event_type: str, data: dict[str, Any], delays: tuple[float, ...]
) -> None:
    """One signed event (the same bytes once per delay: a redelivery) to the account's webhook."""
    if not account.callback_url:
        return
    event = {"id": new_id(dialect, "ev"), "type": event_type, "created_at": iso(timezone.now()), "data": data}
    raw = json.dumps(event, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        dialect.signature_header: signature(dialect, account.webhook_secret, raw, int(time.time())),
    }
    for delay in delays:
        callback_enqueue(
            provider=dialect.provider, url=account.callback_url, body=raw, headers=headers, delay_seconds=delay
        )


def answer(status: int, body: Any) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)
