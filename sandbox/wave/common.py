"""Plumbing of the Wave simulator: authentication, Wave-shaped errors, ids and timestamps,
the wallet balance, and idempotency keys "like the real provider" (docs/providers/wave.md §2).

The sandbox is the outside world: nothing here imports the gateway's code but ``core``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.models import SimCounter, SimIdempotency, SimObject
from sandbox.services import SimAccount, account_for_key, bearer_token, simulate_latency

PROVIDER = "wave"
DEFAULT_FLOAT_MINOR = 100_000_000  # XOF in the business wallet of a new sandbox account
FEE_PERCENT = 1  # Wave's 1 % on payouts (charged on top) and checkout payments (deducted)

WaveView = Callable[..., HttpResponse]
Answer = tuple[int, Any]


def wave_error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    """Wave's error body: at least ``code`` and ``message`` (docs/providers/wave.md §2)."""
    return JsonResponse({"code": code, "message": message, **extra}, status=status)


def validation_error(message: str, loc: list[Any] | None = None) -> JsonResponse:
    details = [{"loc": loc or [], "msg": message, "type": "value_error"}]
    return wave_error(400, "request-validation-error", "Request invalid", details=details)


def wave_id(prefix: str, length: int = 13) -> str:
    """Wave-looking ids: ``pt-185sewgm8100t``, ``cos-18qq25rgr100a``, ``EV_QvEZuDSQbLdI``."""
    alphabet = string.ascii_letters + string.digits if prefix.endswith("_") else string.ascii_lowercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def iso(moment: datetime) -> str:
    """ISO-8601 UTC to the second, ``2024-01-15T10:00:00Z`` (docs/providers/wave.md §2)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fee_of(amount_minor: int) -> int:
    return amount_minor * FEE_PERCENT // 100


def public(data: dict[str, Any]) -> dict[str, Any]:
    """A stored object without the simulator's private keys (``_account``…)."""
    return {key: value for key, value in data.items() if not key.startswith("_")}


def wallet_of(account: SimAccount) -> str:
    return str(account.extra["wallet_id"])


def account_by_wallet(wallet_id: str) -> SimAccount | None:
    row = SimObject.objects.filter(provider=PROVIDER, kind="account", data__extra__wallet_id=wallet_id).first()
    return account_for_key(PROVIDER, row.data["api_key"]) if row else None


# --- requests --------------------------------------------------------------------------------


def authenticate(request: HttpRequest) -> SimAccount | JsonResponse:
    """The business wallet of ``Authorization: Bearer <api key>`` (docs/providers/wave.md §1)."""
    if not request.headers.get("Authorization"):
        return wave_error(401, "missing-auth-header", "The Authorization header is missing.")
    api_key = bearer_token(request)
    if not api_key:
        return wave_error(401, "invalid-auth", "The Authorization header must be 'Bearer <api key>'.")
    account = account_for_key(PROVIDER, api_key)
    if account is None:
        return wave_error(401, "no-matching-api-key", "No API key matches.")
    return account


def wave_api(*methods: str, authenticated: bool = True) -> Callable[[WaveView], WaveView]:
    """A simulator endpoint: latency, allowed methods, then (usually) the API key's account,
    passed to the view as its second argument."""

    def decorate(view: WaveView) -> WaveView:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            simulate_latency()
            if request.method not in methods:
                return wave_error(405, "method-not-allowed", f"{request.method} is not allowed here.")
            if not authenticated:
                return view(request, *args, **kwargs)
            account = authenticate(request)
            if isinstance(account, JsonResponse):
                return account
            return view(request, account, *args, **kwargs)

        return endpoint

    return decorate


def json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    if not request.content_type or request.content_type != "application/json":
        return wave_error(400, "request-not-json", "The request body must be JSON.")
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return wave_error(400, "request-parsing-error", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return validation_error("the body must be a JSON object")
    return body


def whole_amount(value: Any, field: str) -> int | JsonResponse:
    """XOF amounts: strings, round numbers, no leading zeros, positive (docs/providers/wave.md §2)."""
    if not isinstance(value, str) or not value.isdigit() or value.startswith("0"):
        return validation_error(f"{field} must be a string holding a positive whole number", [field])
    return int(value)


# --- the business wallet ----------------------------------------------------------------------


def balance_of(wallet_id: str) -> int:
    row = SimCounter.objects.filter(provider=PROVIDER, name=f"float:{wallet_id}").first()
    return row.value if row else 0


def balance_set(wallet_id: str, amount_minor: int) -> None:
    SimCounter.objects.update_or_create(provider=PROVIDER, name=f"float:{wallet_id}", defaults={"value": amount_minor})


def balance_debit(wallet_id: str, amount_minor: int) -> bool:
    """Take ``amount_minor`` from the wallet if it holds that much (atomic, row-locked)."""
    with transaction.atomic():
        row, _ = SimCounter.objects.select_for_update().get_or_create(provider=PROVIDER, name=f"float:{wallet_id}")
        if row.value < amount_minor:
            return False
        SimCounter.objects.filter(pk=row.pk).update(value=F("value") - amount_minor)
    return True


def balance_credit(wallet_id: str, amount_minor: int) -> None:
    with transaction.atomic():
        row, _ = SimCounter.objects.select_for_update().get_or_create(provider=PROVIDER, name=f"float:{wallet_id}")
        SimCounter.objects.filter(pk=row.pk).update(value=F("value") + amount_minor)


# --- idempotency keys (docs/providers/wave.md §2) ---------------------------------------------


def body_fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def idempotent(wallet_id: str, key: str, fingerprint: str, produce: Callable[[], Answer]) -> tuple[int, Any, bool]:
    """Run ``produce`` once per key: ``(status, body, replayed)``.

    Same key + same body → the stored answer, nothing done again. Same key + another body →
    409 ``idempotency-mismatch``. A 5xx answer is not stored (nothing was done), so a retry
    with the same key runs again. The key's row is locked for the whole run: two concurrent
    requests with one key are served one after the other, never both executed.
    """
    with transaction.atomic():
        row, _ = SimIdempotency.objects.select_for_update().get_or_create(
            provider=PROVIDER, key=f"{wallet_id}:{key}", defaults={"fingerprint": fingerprint}
        )
        if row.fingerprint != fingerprint:
            mismatch = {"code": "idempotency-mismatch", "message": "This Idempotency-Key was used with another body."}
            return 409, mismatch, False
        if row.status_code is not None:
            return row.status_code, row.body, True
        status, body = produce()
        if status >= 500:
            row.delete()
        else:
            row.status_code, row.body = status, body
            row.save(update_fields=["status_code", "body"])
    return status, body, False


def answer(status: int, body: Any) -> HttpResponse:
    if body is None:
        return HttpResponse(status=status)  # expire / refund: 200 with an empty body (docs/providers/wave.md §4)
    return JsonResponse(body, status=status, safe=False)
