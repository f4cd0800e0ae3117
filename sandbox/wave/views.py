"""Wave simulator: payouts, payout batches and the balance (docs/providers/wave.md §3, §5).

Outcomes by the recipient's ``mobile`` (docs/architecture.md §6, ``sandbox.services.outcome_for``):
``…9901`` → 422 ``recipient-account-blocked``; ``…9902`` → paid, but the answer comes after
the caller's read timeout; ``…9903`` → the first attempt answers 500 and pays nothing, a retry
with the same Idempotency-Key pays; ``…9904`` → 422 ``insufficient-funds``; anything else
(``…9905`` included: Wave sends no payout webhooks) → paid. Every payment is a ``SimEffect``
(``payout``, reference = ``client_reference``) and comes out of the wallet (amount + 1 % fee).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from sandbox.models import SimCounter, SimEffect, SimObject
from sandbox.services import Outcome, SimAccount, counter_add, effect_record, hang, outcome_for
from sandbox.wave.common import (
    PROVIDER,
    Answer,
    answer,
    balance_debit,
    balance_of,
    body_fingerprint,
    fee_of,
    idempotent,
    iso,
    json_body,
    public,
    validation_error,
    wallet_of,
    wave_api,
    wave_error,
    wave_id,
)

PAYOUT_FIELDS = frozenset(
    {
        "currency",
        "receive_amount",
        "mobile",
        "name",
        "national_id",
        "payment_reason",
        "client_reference",
        "aggregated_merchant_id",
    }
)
_SN_MOBILE_RE = re.compile(r"^\+221[0-9]{9}$")
ITEMS_PER_POLL_DIVISOR = 3  # a batch completes over about three status polls
BLOCKED = {"error_code": "recipient-account-blocked", "error_message": "The recipient's account is blocked."}
NO_FUNDS = {"error_code": "insufficient-funds", "error_message": "The wallet cannot cover amount and fee."}
IDEMPOTENCY_KEY_REQUIRED = "An 'Idempotency-Key' header is required for POST requests"  # docs/providers/wave.md §2


def payout_problem(body: Any, loc: list[Any]) -> JsonResponse | None:
    """Validation of one payout request (docs/providers/wave.md §3), Wave's pydantic-style errors."""
    if not isinstance(body, dict):
        return validation_error("a payout must be an object", loc)
    extra = set(body) - PAYOUT_FIELDS
    if extra:
        return validation_error(f"extra fields not permitted: {sorted(extra)}", [*loc, sorted(extra)[0]])
    for field in ("currency", "receive_amount", "mobile"):
        if field not in body:
            return validation_error("field required", [*loc, field])
    if body["currency"] != "XOF":
        return wave_error(400, "currency-mismatch", "The wallet holds XOF.")
    amount = body["receive_amount"]
    if not isinstance(amount, str) or not amount.isdigit() or amount.startswith("0"):
        return validation_error("receive_amount must be a round positive number as a string", [*loc, "receive_amount"])
    if not isinstance(body["mobile"], str) or not _SN_MOBILE_RE.match(body["mobile"]):
        return wave_error(400, "country-mismatch", "The recipient must be a Senegalese number in E.164 form.")
    if len(str(body.get("payment_reason") or "")) > 40:
        return validation_error("payment_reason is at most 40 characters", [*loc, "payment_reason"])
    return None


def payout_object(body: dict[str, Any], status: str, error: dict[str, str] | None = None) -> dict[str, Any]:
    amount = int(body["receive_amount"])
    payout = {
        "id": wave_id("pt-"),
        "currency": body["currency"],
        "receive_amount": body["receive_amount"],
        "fee": str(fee_of(amount)),
        "mobile": body["mobile"],
        "name": body.get("name"),
        "national_id": body.get("national_id"),
        "client_reference": body.get("client_reference"),
        "payment_reason": body.get("payment_reason"),
        "status": status,
        "timestamp": iso(timezone.now()),
    }
    if error:
        payout["payout_error"] = error
    return payout


def payout_pay(account: SimAccount, body: dict[str, Any]) -> tuple[str, dict[str, str] | None]:
    """Pay one payout if the outcome and the wallet allow: ``(status, payout_error)``."""
    outcome = outcome_for(body["mobile"])
    if outcome is Outcome.REJECTED:
        return "failed", dict(BLOCKED)
    amount = int(body["receive_amount"])
    if outcome is Outcome.INSUFFICIENT_FLOAT or not balance_debit(wallet_of(account), amount + fee_of(amount)):
        return "failed", dict(NO_FUNDS)
    reference = str(body.get("client_reference") or "")
    effect_record(provider=PROVIDER, effect="payout", reference=reference, amount_minor=amount, currency="XOF")
    return "succeeded", None


def payout_row(account: SimAccount, payout: dict[str, Any]) -> SimObject:
    return SimObject(
        provider=PROVIDER,
        kind="payout",
        object_id=payout["id"],
        reference=payout.get("client_reference") or "",
        status=payout["status"],
        data={**payout, "_account": wallet_of(account)},
    )


def payout_store(account: SimAccount, payout: dict[str, Any]) -> None:
    payout_row(account, payout).save(force_insert=True)


def payout_execute(account: SimAccount, body: dict[str, Any], key: str) -> Answer:
    """The synchronous payout (docs/providers/wave.md §3): refusals answer 4xx and create nothing."""
    outcome = outcome_for(body["mobile"])
    if outcome is Outcome.FLAKY_5XX_ONCE and counter_add(PROVIDER, f"attempts:{wallet_of(account)}:{key}") == 1:
        return 500, {"code": "internal-server-error", "message": "Internal server error."}
    status, error = payout_pay(account, body)
    if error is not None:
        return 422, {"code": error["error_code"], "message": error["error_message"]}
    payout = payout_object(body, status)
    payout_store(account, payout)
    return 200, payout


@wave_api("POST")
def payout_create(request: HttpRequest, account: SimAccount) -> HttpResponse:
    key = request.headers.get("Idempotency-Key", "")
    if not key or len(key) > 255:
        return wave_error(400, "request-validation-error", IDEMPOTENCY_KEY_REQUIRED)
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    problem = payout_problem(body, [])
    if problem is not None:
        return problem
    status, payload, replayed = idempotent(
        wallet_of(account), f"payout:{key}", body_fingerprint(body), lambda: payout_execute(account, body, key)
    )
    if status == 200 and not replayed and outcome_for(body["mobile"]) is Outcome.TIMEOUT_THEN_SUCCESS:
        hang()  # paid and committed; the answer is lost to the caller's read timeout (9902)
    return answer(status, payload)


@wave_api("GET")
def payout_get(request: HttpRequest, account: SimAccount, payout_id: str) -> HttpResponse:
    row = SimObject.objects.filter(
        provider=PROVIDER, kind="payout", object_id=payout_id, data___account=wallet_of(account)
    ).first()
    if row is None:
        return wave_error(404, "not-found", "No payout with this id.")
    return JsonResponse(public(row.data))


@wave_api("GET")
def payout_search(request: HttpRequest, account: SimAccount) -> HttpResponse:
    reference = request.GET.get("client_reference")
    if not reference:
        return validation_error("field required", ["client_reference"])
    rows = SimObject.objects.filter(
        provider=PROVIDER, kind="payout", reference=reference, data___account=wallet_of(account)
    ).order_by("pk")
    return JsonResponse({"result": [public(row.data) for row in rows]})


# --- batches (asynchronous; docs/providers/wave.md §3) ----------------------------------------


def batch_execute(account: SimAccount, payouts: list[dict[str, Any]]) -> Answer:
    batch_id = wave_id("pb-")
    items = [payout_object(body, "processing") for body in payouts]
    SimObject.objects.create(
        provider=PROVIDER,
        kind="payout_batch",
        object_id=batch_id,
        status="processing",
        data={"id": batch_id, "status": "processing", "payouts": items, "_account": wallet_of(account)},
    )
    return 200, {"id": batch_id}


@wave_api("POST")
def batch_create(request: HttpRequest, account: SimAccount) -> HttpResponse:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return wave_error(400, "request-validation-error", IDEMPOTENCY_KEY_REQUIRED)
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    payouts = body.get("payouts")
    if set(body) != {"payouts"} or not isinstance(payouts, list) or not payouts:
        return validation_error('the body must be {"payouts": [at least one payout]}', ["payouts"])
    for index, item in enumerate(payouts):
        problem = payout_problem(item, ["payouts", index])
        if problem is not None:
            return problem
    status, payload, _ = idempotent(
        wallet_of(account), f"batch:{key}", body_fingerprint(body), lambda: batch_execute(account, payouts)
    )
    return answer(status, payload)


def payouts_pay(account: SimAccount, bodies: list[dict[str, Any]]) -> list[tuple[str, dict[str, str] | None]]:
    """``payout_pay`` of each payout in turn, as set-based SQL: the wallet's row is locked once,
    each payout is decided in order against the running balance (the same outcomes, the same
    refusals as one ``balance_debit`` each), then ONE update of the balance and one INSERT of the
    effects. A status poll settles a third of a batch; one payout at a time that was four writes
    each under the wallet's lock (docs/performance.md, P6). Runs inside the caller's transaction."""
    wallet = wallet_of(account)
    results: list[tuple[str, dict[str, str] | None]] = []
    paid: list[SimEffect] = []
    row, _ = SimCounter.objects.select_for_update().get_or_create(provider=PROVIDER, name=f"float:{wallet}")
    left = row.value
    for body in bodies:
        outcome = outcome_for(body["mobile"])
        if outcome is Outcome.REJECTED:
            results.append(("failed", dict(BLOCKED)))
            continue
        amount = int(body["receive_amount"])
        if outcome is Outcome.INSUFFICIENT_FLOAT or left < amount + fee_of(amount):
            results.append(("failed", dict(NO_FUNDS)))
            continue
        left -= amount + fee_of(amount)
        reference = str(body.get("client_reference") or "")
        paid.append(
            SimEffect(provider=PROVIDER, effect="payout", reference=reference, amount_minor=amount, currency="XOF")
        )
        results.append(("succeeded", None))
    if left != row.value:
        SimCounter.objects.filter(pk=row.pk).update(value=F("value") - (row.value - left))
    SimEffect.objects.bulk_create(paid)
    return results


def batch_advance(account: SimAccount, batch: dict[str, Any]) -> None:
    """Settle the next slice of a batch's items (each poll moves it on, as Wave's queue would):
    paid in order as ``payout_pay`` would, stored with one INSERT (``payouts_pay``)."""
    pending = [item for item in batch["payouts"] if item["status"] == "processing"]
    settling = pending[: max(1, -(-len(batch["payouts"]) // ITEMS_PER_POLL_DIVISOR))]
    for item, (status, error) in zip(settling, payouts_pay(account, settling), strict=True):
        item["status"] = status
        if error is not None:
            item["payout_error"] = error  # the second error channel: 200 + payout_error
    SimObject.objects.bulk_create(payout_row(account, item) for item in settling)
    if all(item["status"] != "processing" for item in batch["payouts"]):
        batch["status"] = "complete"


@wave_api("GET")
def batch_get(request: HttpRequest, account: SimAccount, batch_id: str, spelling: str) -> HttpResponse:
    if spelling not in account.extra.get("batch_status_paths", [spelling]):
        return wave_error(404, "not-found", "Not found.")
    with transaction.atomic():
        row = (
            SimObject.objects.select_for_update()
            .filter(provider=PROVIDER, kind="payout_batch", object_id=batch_id, data___account=wallet_of(account))
            .first()
        )
        if row is None:
            return wave_error(404, "not-found", "No payout batch with this id.")
        if row.data["status"] == "processing":
            batch_advance(account, row.data)
            row.status = row.data["status"]
            row.save(update_fields=["data", "status", "updated_at"])
    return JsonResponse(public(row.data))


@wave_api("GET")
def balance(request: HttpRequest, account: SimAccount) -> HttpResponse:
    return JsonResponse({"amount": str(balance_of(wallet_of(account))), "currency": "XOF"})
