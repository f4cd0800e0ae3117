"""The endpoints of a generic-wallet simulator, built for one dialect (``urlpatterns_for``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.utils import timezone

from sandbox.generic_wallet.dialect import Dialect
from sandbox.generic_wallet.engine import (
    CASH_IN_FIELDS,
    CHECKOUT_FIELDS,
    CHECKOUT_LIFETIME,
    FAILURES,
    LATE_TWICE,
    ON_TIME,
    Answer,
    amount_minor,
    answer,
    api,
    balance_move,
    balance_of,
    error,
    event_send,
    idempotent,
    iso,
    json_object,
    new_id,
    owned,
    problem_of,
    public,
    store,
)
from sandbox.services import Outcome, SimAccount, counter_add, effect_record, hang, outcome_for


def _cash_in_pay(dialect: Dialect, account: SimAccount, body: dict[str, Any]) -> Answer:
    outcome = outcome_for(body["msisdn"])
    if outcome is Outcome.FLAKY_5XX_ONCE and counter_add(dialect.provider, f"attempts:{body['reference']}") == 1:
        return 500, {"code": "internal-error", "message": "Internal error, nothing was done."}
    minor = amount_minor(body["amount"]) or 0
    failure = FAILURES.get(outcome)
    if failure is None and not balance_move(dialect, account, -minor):
        failure = "insufficient-funds"
    if failure is not None:
        return 422, {"code": failure, "message": f"The cash-in was refused: {failure}."}
    cash_in = {
        "id": new_id(dialect, "ci"),
        "reference": body["reference"],
        "msisdn": body["msisdn"],
        "amount": body["amount"],
        "currency": body["currency"],
        "fee": "0",
        "status": "succeeded",
        "created_at": iso(timezone.now()),
        "completed_at": iso(timezone.now()),
    }
    store(dialect, account, "cash_in", cash_in)
    effect_record(
        provider=dialect.provider, effect="cash_in", reference=body["reference"], amount_minor=minor, currency="XOF"
    )
    delays = LATE_TWICE if outcome is Outcome.LATE_DUPLICATE_CALLBACK else ON_TIME
    event_send(dialect, account, "cash_in.succeeded", cash_in, delays)
    return 200, cash_in


def urlpatterns_for(dialect: Dialect) -> list[URLPattern]:
    """The simulator's routes (docs/providers/generic-wallet.yaml), speaking ``dialect``."""

    @api(dialect, "GET", "POST")
    def cash_ins(request: HttpRequest, account: SimAccount) -> HttpResponse:
        if request.method == "GET":
            rows = owned(dialect, account, "cash_in", reference=request.GET.get("reference", ""))
            return answer(200, {"items": [public(row) for row in rows.order_by("pk")]})
        key = request.headers.get("Idempotency-Key", "")
        body = json_object(request)
        if isinstance(body, JsonResponse):
            return body
        problem = problem_of(body, CASH_IN_FIELDS, ("reference", "msisdn", "amount", "currency"))
        if problem is not None:
            return problem
        if key != body["reference"]:
            return error(400, "invalid-request", "The Idempotency-Key must be the cash-in's reference.")
        status, result, replayed = idempotent(dialect, account, key, body, lambda: _cash_in_pay(dialect, account, body))
        if outcome_for(body["msisdn"]) is Outcome.TIMEOUT_THEN_SUCCESS and status == 200 and not replayed:
            hang()  # paid; the answer is lost on the way (a retry gets it at once)
        return answer(status, result)

    @api(dialect, "GET")
    def cash_in_get(request: HttpRequest, account: SimAccount, object_id: str) -> HttpResponse:
        row = owned(dialect, account, "cash_in", object_id=object_id).first()
        return answer(200, public(row)) if row else error(404, "not-found", "No such cash-in.")

    @api(dialect, "GET")
    def balance(request: HttpRequest, account: SimAccount) -> HttpResponse:
        return answer(200, {"amount": str(balance_of(dialect, account)), "currency": "XOF"})

    def checkout_create(account: SimAccount, body: dict[str, Any]) -> Answer:
        now = timezone.now()
        session = {
            "id": new_id(dialect, "co"),
            "reference": body["reference"],
            "amount": body["amount"],
            "currency": body["currency"],
            "status": "open",
            "payment_status": "processing",
            "payer_msisdn": body.get("payer_msisdn"),
            "expires_at": iso(now + CHECKOUT_LIFETIME),
            "created_at": iso(now),
        }
        session["payment_url"] = f"https://pay.sandbox.invalid/{dialect.provider}/{session['id']}"
        store(dialect, account, "checkout", session)
        return 200, session

    @api(dialect, "GET", "POST")
    def checkouts(request: HttpRequest, account: SimAccount) -> HttpResponse:
        if request.method == "GET":
            rows = owned(dialect, account, "checkout", reference=request.GET.get("reference", ""))
            return answer(200, {"items": [public(row) for row in rows.order_by("pk")]})
        body = json_object(request)
        if isinstance(body, JsonResponse):
            return body
        problem = problem_of(body, CHECKOUT_FIELDS, ("reference", "amount", "currency", "success_url", "error_url"))
        if problem is not None:
            return problem
        key = request.headers.get("Idempotency-Key") or body["reference"]
        status, result, _ = idempotent(dialect, account, "co:" + key, body, lambda: checkout_create(account, body))
        return answer(status, result)

    def session_of(account: SimAccount, object_id: str) -> Any:
        return owned(dialect, account, "checkout", object_id=object_id).select_for_update().first()

    @api(dialect, "GET")
    def checkout_get(request: HttpRequest, account: SimAccount, object_id: str) -> HttpResponse:
        row = owned(dialect, account, "checkout", object_id=object_id).first()
        return answer(200, public(row)) if row else error(404, "not-found", "No such checkout.")

    def change(account: SimAccount, object_id: str, act: Any) -> HttpResponse:
        with transaction.atomic():
            row = session_of(account, object_id)
            if row is None:
                return error(404, "not-found", "No such checkout.")
            refused = act(row.data)
            if refused is not None:
                return refused
            row.status = row.data["status"]
            row.save(update_fields=["data", "status", "updated_at"])
        return answer(200, public(row))

    @api(dialect, "POST")
    def checkout_expire(request: HttpRequest, account: SimAccount, object_id: str) -> HttpResponse:
        def act(data: dict[str, Any]) -> JsonResponse | None:
            if data["status"] != "open":
                return error(409, "checkout-not-open", f"The checkout is {data['status']}.")
            data.update(status="expired", payment_status="cancelled")
            return None

        return change(account, object_id, act)

    @api(dialect, "POST")
    def checkout_refund(request: HttpRequest, account: SimAccount, object_id: str) -> HttpResponse:
        def act(data: dict[str, Any]) -> JsonResponse | None:
            if data["payment_status"] == "refunded":
                return None  # a refund is idempotent
            if data["payment_status"] != "succeeded":
                return error(409, "checkout-not-paid", "Only a paid checkout can be refunded.")
            minor = amount_minor(data["amount"]) or 0
            if not balance_move(dialect, account, -minor):
                return error(422, "insufficient-funds", "The wallet cannot refund this amount.")
            effect_record(
                provider=dialect.provider,
                effect="checkout_refund",
                reference=data["reference"],
                amount_minor=minor,
                currency="XOF",
            )
            data.update(payment_status="refunded", refunded_at=iso(timezone.now()))
            return None

        return change(account, object_id, act)

    @api(dialect, "POST")
    def sandbox_pay(request: HttpRequest, account: SimAccount, object_id: str) -> HttpResponse:
        body = json_object(request)
        if isinstance(body, JsonResponse):
            return body
        payer = body.get("payer_msisdn")
        if not isinstance(payer, str):
            return error(400, "invalid-request", "payer_msisdn: E.164")
        events: list[tuple[str, dict[str, Any], tuple[float, ...]]] = []

        def act(data: dict[str, Any]) -> JsonResponse | None:
            if data["status"] != "open":
                return error(409, "checkout-not-open", f"The checkout is {data['status']}.")
            outcome = outcome_for(payer)
            failure = FAILURES.get(outcome)
            if data.get("payer_msisdn") and data["payer_msisdn"] != payer:
                failure = "payer-mobile-mismatch"
            if failure is not None:
                data.update(
                    payment_status="failed", failure_code=failure, failure_message=f"The payment failed: {failure}."
                )
                events.append(("checkout.payment_failed", dict(data), ON_TIME))
                return None
            minor = amount_minor(data["amount"]) or 0
            balance_move(dialect, account, minor)
            effect_record(
                provider=dialect.provider,
                effect="checkout_payment",
                reference=data["reference"],
                amount_minor=minor,
                currency="XOF",
            )
            now = iso(timezone.now())
            data.update(status="complete", payment_status="succeeded", payer_msisdn=payer, completed_at=now)
            data.update(transaction_id=new_id(dialect, "tx"), failure_code=None, failure_message=None)
            delays = LATE_TWICE if outcome is Outcome.LATE_DUPLICATE_CALLBACK else ON_TIME
            events.append(("checkout.completed", dict(data), delays))
            return None

        response = change(account, object_id, act)
        for event_type, data, delays in events:
            event_send(dialect, account, event_type, {k: v for k, v in data.items() if not k.startswith("_")}, delays)
        return response

    return [
        path("v1/cash-ins", cash_ins),
        path("v1/cash-ins/<str:object_id>", cash_in_get),
        path("v1/balance", balance),
        path("v1/checkouts", checkouts),
        path("v1/checkouts/<str:object_id>", checkout_get),
        path("v1/checkouts/<str:object_id>/expire", checkout_expire),
        path("v1/checkouts/<str:object_id>/refund", checkout_refund),
        path("_sandbox/checkouts/<str:object_id>/pay", sandbox_pay),
    ]
