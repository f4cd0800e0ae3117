"""Our core banking system over HTTP/JSON (assumed contract: docs/providers/banking.md §2).

``POST {base}/v1/credits`` with ``Idempotency-Key: <reference>`` and
``{"reference", "account", "amount", "currency", "beneficiary_name", "remittance_information"}``
answers ``201`` (new) or ``200`` + ``Idempotent-Replayed: true`` (the stored result of the same
reference) with ``{"reference", "status": "posted"|"rejected"|"pending", "reason_code",
"posting_reference", …}``. ``GET {base}/v1/credits/{reference}`` answers the same document or
``404 {"error": "credit_not_found"}``. Authentication: ``Authorization: Bearer <api_key>``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from banking.iban import normalise
from banking.iso20022.reasons import ReasonCode
from banking.providers.base import CoreBankingConnector, CreditOrder, CreditResult, CreditState
from banking.providers.camt053 import parse_camt053
from core.errors import ProviderOutcomeUnknown, ProviderRejected
from core.http import ProviderHttpClient, ProviderResponse, raise_for_provider_status
from core.provider_records import DayRecord
from partners.registry import ConnectorSettings, register

PROVIDER = "core_banking"
_STATES = {"posted": CreditState.POSTED, "rejected": CreditState.REJECTED, "pending": CreditState.PENDING}


@register("core_banking")
class CoreBankingHttpConnector(CoreBankingConnector):
    """``credentials``: ``{"api_key": …}``; ``base_url``: the core's API root."""

    def __init__(self, settings: ConnectorSettings) -> None:
        api_key = settings.credentials.get("api_key")
        if not api_key:
            raise ValueError("the core_banking connection needs credentials.api_key")
        self._client = ProviderHttpClient(
            provider=PROVIDER,
            base_url=settings.base_url,
            timeouts=settings.timeouts,
            default_headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    def credit_account(self, order: CreditOrder) -> CreditResult:
        body = {
            "reference": order.reference,
            "account": normalise(order.account),
            "amount": order.amount.to_decimal_string(),
            "currency": order.amount.currency,
            "beneficiary_name": order.beneficiary_name,
            "remittance_information": order.remittance_information,
        }
        response = self._client.request(
            "POST",
            "v1/credits",
            operation="credit_account",
            moves_money=True,
            json_body=body,
            headers={"Idempotency-Key": order.reference},
        )
        return _result(response, order.reference, moves_money=True)

    def credit_status(self, reference: str) -> CreditResult:
        response = self._client.request(
            "GET", f"v1/credits/{quote(reference, safe='')}", operation="credit_status", raise_for_status=False
        )
        if response.status == 404 and _error_of(response) == "credit_not_found":
            return CreditResult(reference=reference, status=CreditState.NOT_FOUND)
        raise_for_provider_status(response, provider=PROVIDER, operation="credit_status", moves_money=False)
        return _result(response, reference, moves_money=False)

    def day_record(self, business_date: date) -> DayRecord:
        """The bank's camt.053 statement of the day (docs/providers/banking.md §8); moves no money."""
        path = f"v1/statements/{business_date.isoformat()}"
        response = self._client.request("GET", path, operation="statement")
        return parse_camt053(response.content, provider=PROVIDER, business_date=business_date)

    def close(self) -> None:
        self._client.close()


def _error_of(response: ProviderResponse) -> str | None:
    try:
        data = response.json()
    except ProviderOutcomeUnknown:
        return None
    return data.get("error") if isinstance(data, dict) else None


def _result(response: ProviderResponse, reference: str, *, moves_money: bool) -> CreditResult:
    """A 2xx answer as a ``CreditResult``. An answer we cannot read is an unknown outcome on a
    money-moving call (the credit may be posted) and a rejected answer otherwise."""
    data: Any = response.json()
    state = _STATES.get(str(data.get("status"))) if isinstance(data, dict) else None
    if state is None or data.get("reference") != reference:
        message = f"core_banking answered HTTP {response.status} with an unexpected document"
        if moves_money:
            raise ProviderOutcomeUnknown(message, http_status=response.status)
        raise ProviderRejected(message, http_status=response.status)
    reason_code = None
    if state is CreditState.REJECTED:
        reason_code = data.get("reason_code") or ReasonCode.NOT_SPECIFIED.value
    replayed = {name.lower(): value for name, value in response.headers.items()}.get("idempotent-replayed", "")
    return CreditResult(
        reference=reference,
        status=state,
        reason_code=reason_code,
        posting_reference=data.get("posting_reference") or None,
        is_replay=replayed.lower() == "true",
    )
