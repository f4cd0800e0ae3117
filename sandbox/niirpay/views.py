"""HTTP face of the simulated Niirpay: plain Django views speaking the assumed wire contract
(docs/providers/niirpay.md). Each view authenticates, parses, calls one operation, answers JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.niirpay import payments, quotes
from sandbox.niirpay.accounts import NiirpayAccount, WireError, authenticate, float_available
from sandbox.niirpay.catalog import CURRENCY
from sandbox.services import simulate_latency

Handler = Callable[[HttpRequest, NiirpayAccount, dict[str, Any]], JsonResponse]


def error_response(error: WireError) -> JsonResponse:
    return JsonResponse(error.body(), status=error.status)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise WireError(400, "INVALID_REQUEST", "The body must be JSON.") from None
    if not isinstance(body, dict):
        raise WireError(400, "INVALID_REQUEST", "The body must be a JSON object.")
    return body


def endpoint(method: str) -> Callable[[Handler], Callable[..., JsonResponse]]:
    """Method check, latency, authentication, JSON parsing and error answers for one view."""

    def decorator(handler: Handler) -> Callable[..., JsonResponse]:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> JsonResponse:
            simulate_latency()
            if request.method != method:
                return error_response(WireError(405, "METHOD_NOT_ALLOWED", f"Use {method}."))
            try:
                account = authenticate(request)
                return handler(request, account, {**_json_body(request), **kwargs})
            except WireError as error:
                return error_response(error)

        return view

    return decorator


@endpoint("GET")
def billers(request: HttpRequest, account: NiirpayAccount, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(quotes.billers_list(account))


@endpoint("POST")
def lookups(request: HttpRequest, account: NiirpayAccount, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(quotes.lookup(account, body))


@endpoint("POST")
def quote_create(request: HttpRequest, account: NiirpayAccount, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(quotes.quote_create(account, body), status=201)


@endpoint("POST")
def payment_create(request: HttpRequest, account: NiirpayAccount, body: dict[str, Any]) -> JsonResponse:
    quote_id, reference = payments.parse_pay_request(body, request.headers.get("Idempotency-Key"))
    answer = payments.payment_create(account, quote_id, reference)
    response = JsonResponse(answer.body, status=answer.status_code)
    if answer.is_replay:
        response["Idempotent-Replayed"] = "true"
    return response


@endpoint("GET")
def payment_detail(request: HttpRequest, account: NiirpayAccount, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(payments.payment_get(account, body["reference"]))


@endpoint("GET")
def balance(request: HttpRequest, account: NiirpayAccount, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"available": str(float_available(account)), "currency": CURRENCY})
