"""Shared machinery of the simulators: outcomes by reference, accounts, idempotency, effects,
counters and signed callbacks. Simulators are thin views over these functions."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sandbox.models import SimCallback, SimCounter, SimEffect, SimIdempotency, SimObject


class Outcome(StrEnum):
    """What the simulated provider does, chosen by the end of the reference (docs/architecture.md §6)."""

    SUCCESS = "success"
    REJECTED = "rejected"  # 9901
    TIMEOUT_THEN_SUCCESS = "timeout_then_success"  # 9902
    FLAKY_5XX_ONCE = "flaky_5xx_once"  # 9903
    INSUFFICIENT_FLOAT = "insufficient_float"  # 9904
    LATE_DUPLICATE_CALLBACK = "late_duplicate_callback"  # 9905


_SUFFIXES = {
    "9901": Outcome.REJECTED,
    "9902": Outcome.TIMEOUT_THEN_SUCCESS,
    "9903": Outcome.FLAKY_5XX_ONCE,
    "9904": Outcome.INSUFFICIENT_FLOAT,
    "9905": Outcome.LATE_DUPLICATE_CALLBACK,
}


def outcome_for(reference: str) -> Outcome:
    digits = "".join(ch for ch in reference if ch.isalnum())
    return _SUFFIXES.get(digits[-4:], Outcome.SUCCESS)


class RecordQuirk(StrEnum):
    """How the provider's record of the day disagrees with what it did (docs/sandbox.md).

    The movement itself is processed normally (``outcome_for`` says success); only the record
    of the day that reconciliation reads is wrong, as a real provider's sometimes is.
    """

    OTHER_AMOUNT = "other_amount"  # 9906: the record shows another amount
    MISSING = "missing"  # 9907: the record leaves the movement out


_QUIRKS = {"9906": RecordQuirk.OTHER_AMOUNT, "9907": RecordQuirk.MISSING}
QUIRK_AMOUNT_DELTA_MINOR = 100  # what a 9906 movement's recorded amount is off by


def record_quirk(reference: str) -> RecordQuirk | None:
    digits = "".join(ch for ch in reference if ch.isalnum())
    return _QUIRKS.get(digits[-4:])


def recorded_amount(reference: str, amount_minor: int) -> int | None:
    """The amount the record of the day shows for a movement chosen by ``reference`` (None: left out)."""
    quirk = record_quirk(reference)
    if quirk is RecordQuirk.MISSING:
        return None
    return amount_minor + QUIRK_AMOUNT_DELTA_MINOR if quirk is RecordQuirk.OTHER_AMOUNT else amount_minor


def business_day_bounds(day: str) -> tuple[datetime, datetime] | None:
    """``YYYY-MM-DD`` as the [start, end) of that day in the bank's time zone; None if malformed."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return None
    start = timezone.make_aware(datetime.combine(parsed, datetime.min.time()))
    return start, start + timedelta(days=1)


def simulate_latency() -> None:
    """The configurable latency of every simulated call (benchmarks set it; 0 by default)."""
    if settings.SANDBOX_LATENCY_MS:
        time.sleep(settings.SANDBOX_LATENCY_MS / 1000)


def hang() -> None:
    """Answer later than any sane read timeout: the caller sees a lost answer (9902)."""
    time.sleep(settings.SANDBOX_HANG_SECONDS)


# --- accounts: who may call a simulator, and where its callbacks go -----------------------------


@dataclass(frozen=True)
class SimAccount:
    provider: str
    api_key: str
    webhook_secret: str
    callback_url: str
    extra: dict[str, Any]


def _key_id(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:40]


def account_register(
    *,
    provider: str,
    api_key: str | None = None,
    webhook_secret: str | None = None,
    callback_url: str = "",
    extra: dict[str, Any] | None = None,
) -> SimAccount:
    """Create or update the provider-side account a connector authenticates as."""
    api_key = api_key or f"sandbox_{provider}_{secrets.token_urlsafe(24)}"
    webhook_secret = webhook_secret or f"sandbox_whsec_{secrets.token_urlsafe(24)}"
    data = {"api_key": api_key, "webhook_secret": webhook_secret, "callback_url": callback_url, "extra": extra or {}}
    SimObject.objects.update_or_create(
        provider=provider, kind="account", object_id=_key_id(api_key), defaults={"data": data}
    )
    return SimAccount(provider, api_key, webhook_secret, callback_url, extra or {})


def account_for_key(provider: str, api_key: str) -> SimAccount | None:
    row = SimObject.objects.filter(provider=provider, kind="account", object_id=_key_id(api_key)).first()
    if row is None:
        return None
    data = row.data
    return SimAccount(provider, data["api_key"], data["webhook_secret"], data["callback_url"], data.get("extra", {}))


def bearer_token(request: Any) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# --- idempotency, effects, counters --------------------------------------------------------------


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def idempotency_lookup(provider: str, key: str) -> SimIdempotency | None:
    return SimIdempotency.objects.filter(provider=provider, key=key).first()


def idempotency_store(provider: str, key: str, body_fingerprint: str, status_code: int, body: Any) -> None:
    try:
        with transaction.atomic():
            SimIdempotency.objects.create(
                provider=provider, key=key, fingerprint=body_fingerprint, status_code=status_code, body=body
            )
    except IntegrityError:
        SimIdempotency.objects.filter(provider=provider, key=key).update(status_code=status_code, body=body)


def effect_record(*, provider: str, effect: str, reference: str, amount_minor: int, currency: str) -> None:
    SimEffect.objects.create(
        provider=provider, effect=effect, reference=reference, amount_minor=amount_minor, currency=currency
    )


def effects_count(*, provider: str, reference: str, effect: str | None = None) -> int:
    rows = SimEffect.objects.filter(provider=provider, reference=reference)
    if effect:
        rows = rows.filter(effect=effect)
    return rows.count()


def counter_add(provider: str, name: str, by: int = 1) -> int:
    """Atomically add to a named counter and return the new value."""
    with transaction.atomic():
        counter, _ = SimCounter.objects.select_for_update().get_or_create(provider=provider, name=name)
        SimCounter.objects.filter(pk=counter.pk).update(value=F("value") + by)
        counter.refresh_from_db(fields=["value"])
    return counter.value


def counter_value(provider: str, name: str) -> int:
    row = SimCounter.objects.filter(provider=provider, name=name).first()
    return row.value if row else 0


# --- callbacks -------------------------------------------------------------------------------


def callback_enqueue(
    *, provider: str, url: str, body: dict[str, Any] | bytes, headers: dict[str, str], delay_seconds: float = 0.0
) -> SimCallback:
    """Queue a callback to the gateway; a sandbox task delivers it (with retries) after commit.

    ``headers`` may hold a callable-free signature already; bodies are sent byte for byte.
    """
    raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    callback = SimCallback.objects.create(
        provider=provider,
        url=url,
        headers=headers,
        body=raw,
        deliver_after=timezone.now() + timedelta(seconds=delay_seconds),
    )
    from sandbox.tasks import callback_deliver  # the task module imports this one

    transaction.on_commit(lambda: callback_deliver.apply_async((callback.pk,), countdown=delay_seconds))
    return callback
