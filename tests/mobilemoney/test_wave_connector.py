"""Wave specifics against the simulator over HTTP: the batch status path's two spellings
(docs/providers/wave.md §3), authentication errors, and the wire rules the simulator enforces."""

from __future__ import annotations

import uuid

import pytest
import requests

from core.errors import ErrorCode, ProviderRejected
from core.http import Timeouts
from core.money import Money
from mobilemoney.providers.base import CashInBatchRequest, CashInRequest, OperationStatus
from mobilemoney.providers.wave import WaveConnector
from partners.registry import ConnectorSettings
from sandbox.services import SimAccount, effects_count
from sandbox.wave.accounts import wave_account_register

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(account: SimAccount, live_server, api_key: str | None = None) -> WaveConnector:  # type: ignore[no-untyped-def]
    return WaveConnector(
        ConnectorSettings(
            connection_id="pcn_wave_unit",
            connector="wave",
            provider_code="wave",
            mode="test",
            base_url=live_server.url + "/sandbox/wave/",
            credentials={"api_key": api_key or account.api_key, "webhook_secret": account.webhook_secret},
            timeouts=Timeouts(connect=2.0, read=1.5),
            limits={},
        )
    )


def item(suffix: str) -> CashInRequest:
    return CashInRequest(f"txn_{uuid.uuid4().hex[:16]}", f"+22177000{suffix}", Money(1000, "XOF"))


@pytest.mark.parametrize("spelling", [("payout-batch",), ("payouts-batch",)])
def test_batch_status_works_with_either_documented_path(live_server, spelling: tuple[str, ...]) -> None:
    connector = connector_for(wave_account_register(batch_status_paths=spelling), live_server)
    items = (item("1111"), item("2222"))

    submission = connector.cash_in_batch(CashInBatchRequest(reference=f"bat_{uuid.uuid4().hex[:12]}", items=items))
    statuses = [connector.cash_in_batch_status(submission.batch_id) for _ in range(3)]

    assert statuses[-1].is_complete is True
    assert {result.status for result in statuses[-1].items} == {OperationStatus.SUCCEEDED}
    assert [effects_count(provider="wave", reference=request.reference) for request in items] == [1, 1]


def test_an_unknown_batch_is_not_found(live_server) -> None:
    connector = connector_for(wave_account_register(), live_server)

    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in_batch_status("pb-unknown")

    assert refused.value.code is ErrorCode.NOT_FOUND


def test_an_unknown_api_key_is_a_configuration_error_and_pays_nothing(live_server) -> None:
    connector = connector_for(wave_account_register(), live_server, api_key="wave_sn_prod_unknown")
    request = item("1234")

    with pytest.raises(ProviderRejected) as refused:
        connector.cash_in(request)

    assert (refused.value.code, refused.value.provider_code) == (
        ErrorCode.PROVIDER_NOT_CONFIGURED,
        "no-matching-api-key",
    )
    assert effects_count(provider="wave", reference=request.reference) == 0


def test_a_payout_without_idempotency_key_or_with_extra_fields_is_refused(live_server) -> None:
    account = wave_account_register()
    url = live_server.url + "/sandbox/wave/v1/payout"
    auth = {"Authorization": f"Bearer {account.api_key}"}
    body = {"currency": "XOF", "receive_amount": "1000", "mobile": "+221770001234", "client_reference": "txn_x"}

    without_key = requests.post(url, json=body, headers=auth, timeout=5)
    with_metadata = requests.post(
        url, json={**body, "metadata": {}}, headers={**auth, "Idempotency-Key": "k"}, timeout=5
    )
    float_amount = requests.post(
        url, json={**body, "receive_amount": "10.5"}, headers={**auth, "Idempotency-Key": "k"}, timeout=5
    )

    assert (without_key.status_code, without_key.json()["code"]) == (400, "request-validation-error")
    assert without_key.json()["message"] == "An 'Idempotency-Key' header is required for POST requests"
    assert (with_metadata.status_code, with_metadata.json()["details"][0]["msg"]) == (
        400,
        "extra fields not permitted: ['metadata']",
    )
    assert float_amount.status_code == 400
    assert effects_count(provider="wave", reference="txn_x") == 0
