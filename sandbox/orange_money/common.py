"""Plumbing of the Orange Money simulator: OAuth2 bearer tokens, RFC 7807 error bodies
(docs/providers/orange_money.md §8), the RSA-encrypted PIN (§2), the retailer and merchant wallets, and
"same reference, same answer" idempotency of cash-ins.

The sandbox is the outside world: nothing here imports the gateway's code but ``core``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.models import SimCounter, SimIdempotency, SimObject
from sandbox.services import SimAccount, account_for_key, bearer_token, simulate_latency

PROVIDER = "orange_money"
DEFAULT_FLOAT_MINOR = 100_000_000  # XOF in the retailer wallet of a new sandbox account
MSISDN_RE = re.compile(r"^[0-9]{9}$")  # 9 local digits, no 221 (docs/providers/orange_money.md §3)
_PIN_RE = re.compile(rb"^[0-9]{4,6}$")

OmView = Callable[..., HttpResponse]
Answer = tuple[int, Any]

_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}
_TITLES |= {409: "Conflict", 415: "Unsupported Media Type", 500: "Internal Server Error"}


def problem_body(status: int, code: str | int, detail: str, instance: str = "") -> dict[str, str]:
    """RFC 7807 as Sonatel writes it: ``status`` and ``code`` as strings (docs/providers/orange_money.md §8)."""
    title = _TITLES.get(status, "Error")
    return {
        "type": "/" + title.lower().replace(" ", "-"),
        "title": title,
        "instance": instance,
        "status": str(status),
        "code": str(code),
        "detail": detail,
    }


def problem(status: int, code: str | int, detail: str, instance: str = "") -> JsonResponse:
    body = problem_body(status, code, detail, instance)
    return JsonResponse(body, status=status, content_type="application/problem+json")


def now_iso() -> str:
    """``2026-09-09T10:02:59.379Z`` (milliseconds, as in the prod payload; docs/providers/orange_money.md §3)."""
    moment = timezone.now().astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def transaction_id(prefix: str) -> str:
    """``MP260909.1002.A34169`` style ids (docs/providers/orange_money.md §3)."""
    moment = timezone.now().astimezone(UTC)
    suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    return f"{prefix}{moment:%y%m%d}.{moment:%H%M}.{suffix}"


def public(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if not key.startswith("_")}


def client_of(account: SimAccount) -> str:
    return account.api_key  # the OAuth client_id


# --- tokens and requests ------------------------------------------------------------------------


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:40]


def authenticate(request: HttpRequest) -> SimAccount | JsonResponse:
    token = bearer_token(request)
    row = (
        SimObject.objects.filter(provider=PROVIDER, kind="token", object_id=token_key(token)).first() if token else None
    )
    if row is None or row.data["expires_at"] <= time.time():
        return problem(401, 401, "Invalid or expired access token", request.path)
    account = account_for_key(PROVIDER, row.data["client_id"])
    if account is None:
        return problem(401, 401, "Unknown application", request.path)
    return account


def om_api(*methods: str, authenticated: bool = True) -> Callable[[OmView], OmView]:
    """An eWallet endpoint: latency, methods, ``Content-Type: application/json`` on every call
    (GET included, else 415: docs/providers/orange_money.md §2), then the bearer token's account."""

    def decorate(view: OmView) -> OmView:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            simulate_latency()
            if request.method not in methods:
                return problem(405, 405, f"{request.method} is not allowed", request.path)
            if not authenticated:
                return view(request, *args, **kwargs)
            if request.content_type != "application/json":
                return problem(415, 415, "Content-Type must be application/json", request.path)
            account = authenticate(request)
            if isinstance(account, JsonResponse):
                return account
            return view(request, account, *args, **kwargs)

        return endpoint

    return decorate


def json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return problem(400, 400, "The body is not valid JSON", request.path)
    if not isinstance(body, dict):
        return problem(400, 400, "The body must be a JSON object", request.path)
    return body


def xof_amount(value: Any) -> int | None:
    """``{"value": 1000, "unit": "XOF"}`` → 1000; ``None`` when not a positive whole XOF."""
    if not isinstance(value, dict) or value.get("unit") != "XOF":
        return None
    amount = value.get("value")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return None
    return amount


# --- the PIN (docs/providers/orange_money.md §2) -----------------------------------------------------


def pin_problem(account: SimAccount, encrypted_pin: Any, instance: str) -> JsonResponse | None:
    """``None`` when ``encrypted_pin`` decrypts (current key, PKCS#1 v1.5) to the account's PIN.

    OpenSSL's PKCS#1 v1.5 "implicit rejection" returns random bytes, not an error, for a
    ciphertext made with another (revoked) key: anything but 4 to 6 digits is therefore
    "cannot decrypt" (4003), and only a well-formed wrong PIN is 2011.
    """
    plaintext = b""
    key = load_pem_private_key(account.extra["private_key_pem"].encode(), password=None)
    if isinstance(key, RSAPrivateKey) and isinstance(encrypted_pin, str):
        try:
            plaintext = key.decrypt(base64.b64decode(encrypted_pin, validate=True), padding.PKCS1v15())
        except ValueError:
            plaintext = b""
    if not _PIN_RE.match(plaintext):
        return problem(400, 4003, "Invalid/Revoked public key: the PIN cannot be decrypted", instance)
    if not secrets.compare_digest(plaintext.decode(), account.extra["pin"]):
        return problem(400, 2011, "Wrong PIN code", instance)
    return None


# --- wallets ----------------------------------------------------------------------------------------


def wallet_name(account: SimAccount, wallet: str) -> str:
    return f"{wallet}:{client_of(account)}"


def wallet_value(account: SimAccount, wallet: str = "float") -> int:
    row = SimCounter.objects.filter(provider=PROVIDER, name=wallet_name(account, wallet)).first()
    return row.value if row else 0


def wallet_set(account: SimAccount, amount_minor: int, wallet: str = "float") -> None:
    SimCounter.objects.update_or_create(
        provider=PROVIDER, name=wallet_name(account, wallet), defaults={"value": amount_minor}
    )


def wallet_move(account: SimAccount, delta_minor: int, wallet: str = "float") -> bool:
    """Add ``delta_minor`` (negative to debit) unless the wallet would go below zero."""
    with transaction.atomic():
        row, _ = SimCounter.objects.select_for_update().get_or_create(
            provider=PROVIDER, name=wallet_name(account, wallet)
        )
        if row.value + delta_minor < 0:
            return False
        SimCounter.objects.filter(pk=row.pk).update(value=F("value") + delta_minor)
    return True


# --- idempotency by reference ---------------------------------------------------------------------


def fingerprint(fields: Any) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def idempotent(account: SimAccount, key: str, print_: str, produce: Callable[[], Answer]) -> tuple[int, Any, bool]:
    """Run ``produce`` once per ``key``: ``(status, body, replayed)``. A repeat with the same
    fingerprint gets the stored answer (nothing paid again), another fingerprint 409; a 5xx
    is not stored, so a retry runs again. The key's row is locked for the whole run."""
    with transaction.atomic():
        row, _ = SimIdempotency.objects.select_for_update().get_or_create(
            provider=PROVIDER, key=f"{client_of(account)}:{key}", defaults={"fingerprint": print_}
        )
        if row.fingerprint != print_:
            detail = "This reference was already used for another request"
            return 409, problem_body(409, 409, detail), False
        if row.status_code is not None:
            return row.status_code, row.body, True
        status, body = produce()
        if status >= 500:
            row.delete()
        else:
            row.status_code, row.body = status, body
            row.save(update_fields=["status_code", "body"])
    return status, body, False


def respond(status: int, body: Any) -> JsonResponse:
    content_type = "application/json" if status < 400 else "application/problem+json"
    return JsonResponse(body, status=status, safe=False, content_type=content_type)
