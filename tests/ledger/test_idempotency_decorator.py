"""@idempotent on a real DRF view: replays byte for byte, abandons anticipated errors, stores 500s."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.errors import ValidationFailed
from core.money import Money
from ledger.idempotency import idempotent
from ledger.models import IdempotencyRecord, Transaction
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    idempotency_begin,
    idempotency_fingerprint,
    transaction_create,
)
from partners.models import Mode, Partner

PATH = "/api/v1/mobile-money/cash-ins"
factory = APIRequestFactory()
calls: list[str] = []


class HeaderAuthentication(BaseAuthentication):
    """Stands in for the partner authentication: ``request.auth`` with ``partner`` and ``mode``."""

    def authenticate(self, request: Request) -> tuple[None, SimpleNamespace]:
        partner = Partner.objects.get(code=request.headers["X-Partner"])
        return None, SimpleNamespace(partner=partner, mode=request.headers.get("X-Mode", "test"))


class CashInCreateApi(APIView):
    authentication_classes = [HeaderAuthentication]

    @idempotent
    def post(self, request: Request) -> HttpResponseBase:
        data = cast(dict[str, Any], request.data)
        auth = cast(SimpleNamespace, request.auth)
        action = data["action"]
        calls.append(action)
        if action == "invalid":
            raise ValidationFailed("amount is missing")
        account = account_get_or_create_partner_account(partner=auth.partner, mode=auth.mode, currency="XOF")
        transaction = transaction_create(
            partner=auth.partner,
            mode=auth.mode,
            kind="cash_in",
            provider="wave",
            money=Money(int(data["amount"]), "XOF"),
            client_reference=data.get("client_reference", ""),
            metadata={},
            hold_account=account,
        )
        if action == "crash":
            raise RuntimeError("bug after the transaction was created")
        body = {"id": transaction.public_id, "status": transaction.status, "amount": data["amount"]}
        return Response(body, status=202, headers={"Location": f"{PATH}/{transaction.public_id}"})


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls.clear()


def send(partner: Partner, body: bytes, key: str | None = "k-1", mode: str = "test") -> HttpResponse:
    headers: dict[str, Any] = {"HTTP_X_PARTNER": partner.code, "HTTP_X_MODE": mode}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    request = factory.post(PATH, data=body, content_type="application/json", **headers)
    response = CashInCreateApi.as_view()(request)
    if hasattr(response, "render"):
        response.render()
    return response


def create_body(amount: str = "1500", **extra: str) -> bytes:
    return json.dumps({"action": "create", "amount": amount, **extra}).encode()


def test_first_request_runs_and_stores_the_response(partner: Partner) -> None:
    response = send(partner, create_body())
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    record = IdempotencyRecord.objects.get()
    assert record.state == "completed" and bytes(record.response_body or b"") == response.content
    assert record.response_status == 202
    assert record.response_headers == {"Content-Type": "application/json", "Location": response["Location"]}
    assert Transaction.objects.count() == 1 and calls == ["create"]


def test_a_retry_replays_the_same_bytes_without_running_the_view(partner: Partner) -> None:
    first = send(partner, create_body())
    second = send(partner, create_body())
    assert second.status_code == 202
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] and second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert Transaction.objects.count() == 1 and calls == ["create"]


def test_same_key_other_body_is_422_and_runs_nothing(partner: Partner) -> None:
    send(partner, create_body())
    response = send(partner, create_body(amount="2000"))
    assert response.status_code == 422
    assert json.loads(response.content)["code"] == "idempotency_key_reused"
    assert response["Content-Type"] == "application/problem+json"
    assert Transaction.objects.count() == 1 and calls == ["create"]


def test_same_json_other_bytes_is_another_request(partner: Partner) -> None:
    send(partner, b'{"action": "create", "amount": "1500"}')
    response = send(partner, b'{"amount": "1500", "action": "create"}')
    assert response.status_code == 422


def test_in_progress_duplicate_is_409(partner: Partner) -> None:
    body = create_body()
    fingerprint = idempotency_fingerprint(method="POST", path=PATH, body=body)
    idempotency_begin(partner=partner, mode="test", key="k-1", fingerprint=fingerprint)

    response = send(partner, body)

    assert response.status_code == 409
    assert json.loads(response.content)["code"] == "idempotency_key_in_use"
    assert response["Retry-After"] == "1"
    assert calls == [] and Transaction.objects.count() == 0


def test_a_validation_error_is_abandoned_so_the_key_can_be_reused(partner: Partner) -> None:
    failed = send(partner, json.dumps({"action": "invalid"}).encode())
    assert failed.status_code == 400
    assert not IdempotencyRecord.objects.exists()

    retried = send(partner, create_body())

    assert retried.status_code == 202 and calls == ["invalid", "create"]


def test_insufficient_funds_is_abandoned_and_moves_nothing(partner: Partner) -> None:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    response = send(partner, create_body(), mode="live")  # a live account starts empty
    assert response.status_code == 422
    assert json.loads(response.content)["code"] == "insufficient_funds"
    assert not IdempotencyRecord.objects.exists() and Transaction.objects.count() == 0
    account.refresh_from_db()
    assert (account.balance_minor, account.held_minor) == (0, 0)


def test_an_unexpected_error_stores_the_500_so_a_retry_cannot_pay_twice(partner: Partner) -> None:
    body = json.dumps({"action": "crash", "amount": "700"}).encode()
    first = send(partner, body)
    assert first.status_code == 500
    assert json.loads(first.content)["code"] == "internal_error"

    second = send(partner, body)

    assert second.status_code == 500 and second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert calls == ["crash"]


def test_missing_and_invalid_keys_are_400(partner: Partner) -> None:
    missing = send(partner, create_body(), key=None)
    invalid = send(partner, create_body(), key="x" * 256)
    assert (missing.status_code, json.loads(missing.content)["code"]) == (400, "idempotency_key_missing")
    assert (invalid.status_code, json.loads(invalid.content)["code"]) == (400, "idempotency_key_invalid")
    assert calls == [] and not IdempotencyRecord.objects.exists()


def test_the_same_key_of_another_partner_or_mode_is_another_request(partner: Partner, other_partner: Partner) -> None:
    live = account_get_or_create_partner_account(partner=partner, mode=Mode.LIVE, currency="XOF")
    account_fund(account=live, amount_minor=10_000, description="top-up")
    responses = [
        send(partner, create_body()),
        send(other_partner, create_body()),
        send(partner, create_body(), mode="live"),
    ]
    assert [response.status_code for response in responses] == [202, 202, 202]
    assert all("Idempotent-Replayed" not in response for response in responses)
    assert len({response.content for response in responses}) == 3
    assert calls == ["create", "create", "create"] and IdempotencyRecord.objects.count() == 3


def test_an_unauthenticated_request_is_refused_before_any_claim(partner: Partner) -> None:
    class NoAuthApi(CashInCreateApi):
        authentication_classes: list[type[BaseAuthentication]] = []

    request = factory.post(PATH, data=create_body(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    response = NoAuthApi.as_view()(request)
    response.render()
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists() and calls == []
