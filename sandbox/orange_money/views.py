"""Orange Money simulator: OAuth2 token, PIN public key, cash-in, transaction status and
search, retailer balance (docs/providers/orange_money.md §2 to §5).

Cash-in outcomes by the customer's MSISDN (docs/architecture.md §6): ``…9901`` → 2000 (the customer
account does not exist); ``…9902`` → paid, the answer comes after the caller's read timeout;
``…9903`` → the first attempt answers 500 and pays nothing, a retry with the same reference
pays; ``…9904`` → 2020 (balance insufficient); ``…9905`` → paid, and the notification comes
late and twice; anything else → paid, notified at once (with ``receiveNotification``). Each
payment is a ``SimEffect`` ``cash_in`` (reference = ours) and comes out of the retailer wallet.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.models import SimObject
from sandbox.orange_money.common import (
    MSISDN_RE,
    PROVIDER,
    Answer,
    fingerprint,
    idempotent,
    json_body,
    om_api,
    pin_problem,
    problem,
    problem_body,
    public,
    respond,
    token_key,
    wallet_move,
    wallet_value,
    xof_amount,
)
from sandbox.orange_money.events import LATE_TWICE, ON_TIME, after_lost_answer, notification_send
from sandbox.orange_money.records import period_transactions
from sandbox.orange_money.transactions import CASH_IN, transaction_object, transaction_store, transactions_of
from sandbox.services import (
    Outcome,
    SimAccount,
    account_for_key,
    counter_add,
    effect_record,
    hang,
    outcome_for,
    simulate_latency,
)

CASHIN_PATH = "/api/eWallet/v1/cashins"


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """``POST /oauth/v1/token`` (form-encoded client credentials, docs/providers/orange_money.md §2)."""
    simulate_latency()
    if request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
        return JsonResponse({"error": "invalid_request", "error_description": "form-encoded POST expected"}, status=400)
    client_id = request.POST.get("client_id", "")
    counter_add(PROVIDER, f"token_requests:{client_id}")  # tests prove the token is shared
    account = account_for_key(PROVIDER, client_id) if client_id else None
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    if account is None or not secrets.compare_digest(
        request.POST.get("client_secret", ""), account.extra["client_secret"]
    ):
        return JsonResponse({"error": "invalid_client", "error_description": "INVALID_CREDENTIALS"}, status=401)
    access_token = "om_sbx_" + secrets.token_urlsafe(32)
    ttl = int(account.extra.get("token_ttl_seconds", 299))
    SimObject.objects.create(
        provider=PROVIDER,
        kind="token",
        object_id=token_key(access_token),
        data={"client_id": client_id, "expires_at": time.time() + ttl},
    )
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": "oauth PAYMENT-OM QRCODE-OM Orange-Money-Distributeur",
        "refresh_token": "om_sbx_r_" + secrets.token_urlsafe(16),
        "refresh_expires_in": ttl,
    }
    return JsonResponse(body)


@om_api("GET")
def public_keys(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """``GET /api/account/v1/publicKeys`` (docs/providers/orange_money.md §2)."""
    body = {
        "keyId": account.extra["key_id"],
        "keyType": "RSA",
        "keySize": 2048,
        "key": account.extra["public_key_der_b64"],
    }
    return JsonResponse(body)


def cashin_problem(account: SimAccount, body: dict[str, Any]) -> JsonResponse | None:
    partner, customer = body.get("partner"), body.get("customer")
    if not isinstance(partner, dict) or partner.get("idType") != "MSISDN":
        return problem(400, 400, "partner {idType: MSISDN, id, encryptedPinCode} is required", CASHIN_PATH)
    if partner.get("id") != account.extra["partner_msisdn"]:
        return problem(403, 2041, "Transaction not allowed for this partner", CASHIN_PATH)
    if not isinstance(customer, dict) or customer.get("idType") != "MSISDN":
        return problem(400, 400, "customer {idType: MSISDN, id} is required", CASHIN_PATH)
    if not isinstance(customer.get("id"), str) or not MSISDN_RE.match(customer["id"]):
        return problem(400, 2001, "Invalid MSISDN: 9 digits without the country code", CASHIN_PATH)
    if xof_amount(body.get("amount")) is None:
        return problem(400, 400, "amount {value: positive integer, unit: XOF} is required", CASHIN_PATH)
    if not isinstance(body.get("reference"), str) or not body["reference"]:
        return problem(400, 400, "reference is required", CASHIN_PATH)
    return pin_problem(account, partner.get("encryptedPinCode"), CASHIN_PATH)


def cashin_execute(account: SimAccount, body: dict[str, Any]) -> Answer:
    customer, reference = body["customer"]["id"], body["reference"]
    amount = xof_amount(body["amount"]) or 0
    outcome = outcome_for(customer)
    if outcome is Outcome.FLAKY_5XX_ONCE and counter_add(PROVIDER, f"attempts:{account.api_key}:{reference}") == 1:
        return 500, _problem_body(500, 500, "Internal error")
    if outcome is Outcome.REJECTED:
        return 400, _problem_body(400, 2000, "Customer account does not exist")
    if outcome is Outcome.INSUFFICIENT_FLOAT or not wallet_move(account, -amount):
        return 400, _problem_body(400, 2020, "Balance insufficient")
    partner = {"id": account.extra["partner_msisdn"], "idType": "MSISDN", "walletType": "PRINCIPAL"}
    notify = body.get("receiveNotification") is True
    transaction = transaction_object(
        kind=CASH_IN,
        reference=reference,
        amount_minor=amount,
        partner=partner,
        customer_msisdn=customer,
        status="SUCCESS",
        channel="API",
        receive_notification=notify,
    )
    transaction_store(account, transaction)
    effect_record(provider=PROVIDER, effect="cash_in", reference=reference, amount_minor=amount, currency="XOF")
    if notify:
        delays = {Outcome.LATE_DUPLICATE_CALLBACK: LATE_TWICE, Outcome.TIMEOUT_THEN_SUCCESS: after_lost_answer()}
        notification_send(account, transaction, delays=delays.get(outcome, ON_TIME))
    answer = {
        "transactionId": transaction["transactionId"],
        "requestId": secrets.token_hex(8),
        "reference": reference,
        "status": "SUCCESS",
        "description": "Cash-in successful",
    }
    return 200, answer


def _problem_body(status: int, code: int, detail: str) -> dict[str, str]:
    return problem_body(status, code, detail, CASHIN_PATH)


@om_api("POST")
def cashins(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """``POST /api/eWallet/v1/cashins``; the reference is the idempotency key (the encrypted PIN,
    random at each encryption, is left out of the comparison)."""
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    refusal = cashin_problem(account, body)
    if refusal is not None:
        return refusal
    meaning = {key: body.get(key) for key in ("customer", "amount", "reference", "receiveNotification")}
    status, payload, replayed = idempotent(
        account, f"cashin:{body['reference']}", fingerprint(meaning), lambda: cashin_execute(account, body)
    )
    if status == 200 and not replayed and outcome_for(body["customer"]["id"]) is Outcome.TIMEOUT_THEN_SUCCESS:
        hang()  # paid and committed; the answer is lost to the caller's read timeout (9902)
    return respond(status, payload)


@om_api("GET")
def transaction_status(request: HttpRequest, account: SimAccount, transaction_id: str) -> HttpResponse:
    """``GET /api/eWallet/v1/transactions/{id}/status`` → ``{"status": …}`` (docs/providers/orange_money.md §3)."""
    row = transactions_of(account).filter(object_id=transaction_id).first()
    if row is None:
        return problem(404, 404, "Transaction not found", request.path)
    return JsonResponse({"status": row.data["status"]})


@om_api("GET")
def transactions(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """``GET /api/eWallet/v1/transactions?reference=&status=&type=&size=`` → a bare array.

    With ``fromDateTime`` and ``toDateTime`` (ISO 8601) it is the record of a period, oldest
    first, a ``page`` (from 0, **assumed**) of ``size`` at a time (docs/providers/orange_money.md §10);
    there the sandbox disagrees on purpose for customers ending in 9906/9907 (records.py).
    """
    if request.GET.get("fromDateTime") or request.GET.get("toDateTime"):
        return period_transactions(request, account)
    rows = transactions_of(account).order_by("-pk")
    for param, field in (("reference", "reference"), ("status", "status"), ("type", "data__type")):
        if request.GET.get(param):
            rows = rows.filter(**{field: request.GET[param]})
    size = request.GET.get("size", "20")
    limit = int(size) if size.isdigit() and 0 < int(size) <= 500 else 20
    return JsonResponse([public(row.data) for row in rows[:limit]], safe=False)


@om_api("POST")
def retailer_balance(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """``POST /api/eWallet/v1/account/retailer/balance`` (a POST: it carries the PIN)."""
    body = json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if body.get("idType") != "MSISDN" or body.get("id") != account.extra["partner_msisdn"]:
        return problem(403, 2041, "Transaction not allowed for this account", request.path)
    refusal = pin_problem(account, body.get("encryptedPinCode"), request.path)
    if refusal is not None:
        return refusal
    return JsonResponse({"value": float(wallet_value(account)), "unit": "XOF"})  # a float, like Sonatel
