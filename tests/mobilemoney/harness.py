"""Shared setup of the mobile-money tests: sandbox accounts turned into connector settings, the
simulator's side of each connector (where it records effects and callbacks), request builders."""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass
from typing import Any

from core.http import Timeouts
from core.money import Money
from mobilemoney.providers.base import CallbackEvent, CashInRequest, CheckoutRequest, MobileMoneyProvider
from partners.registry import ConnectorSettings
from sandbox.models import SimCallback
from sandbox.orange_money.accounts import om_account_register, om_connector_credentials
from sandbox.wave.accounts import wave_account_register, wave_connector_credentials

TIMEOUTS = Timeouts(connect=2.0, read=1.5)
AMOUNT = Money(1500, "XOF")
CHECKOUT_AMOUNT = Money(2500, "XOF")


def callback_url(sandbox_url: str, provider_path: str) -> str:
    return sandbox_url.removesuffix("/sandbox/") + f"/callbacks/{provider_path}"


def connector_settings(connector: str, base_url: str, credentials: dict[str, str]) -> ConnectorSettings:
    return ConnectorSettings(
        connection_id=f"pcn_test_{connector}",
        connector=connector,
        provider_code=connector.replace("_", "-"),
        mode="test",
        base_url=base_url,
        credentials=credentials,
        timeouts=TIMEOUTS,
        limits={},
    )


def setup_wave(sandbox_url: str) -> ConnectorSettings:
    account = wave_account_register(callback_url=callback_url(sandbox_url, "wave"))
    return connector_settings("wave", sandbox_url + "wave/", wave_connector_credentials(account))


def setup_orange_money(sandbox_url: str) -> ConnectorSettings:
    account = om_account_register(callback_url=callback_url(sandbox_url, "orange-money"))
    return connector_settings("orange_money", sandbox_url + "orange-money/", om_connector_credentials(account))


@dataclass(frozen=True)
class SandboxSide:
    """Where a simulator records what it did (the provider's side of the conformance)."""

    provider: str
    cash_in_effect: str
    checkout_effect: str


SIDES = {
    "wave": SandboxSide("wave", "payout", "checkout_payment"),
    "orange_money": SandboxSide("orange_money", "cash_in", "merchant_payment"),
}


def reference() -> str:
    return f"txn_{uuid.uuid4().hex[:20]}"


def msisdn(suffix: str = "1234") -> str:
    """A Senegalese number whose last four digits choose the simulator's outcome."""
    return f"+22177000{suffix}"


def cash_in_request(suffix: str = "1234", amount: Money = AMOUNT) -> CashInRequest:
    return CashInRequest(reference=reference(), msisdn=msisdn(suffix), money=amount, reason="Sandbox test")


def checkout_request() -> CheckoutRequest:
    return CheckoutRequest(
        reference=reference(),
        money=CHECKOUT_AMOUNT,
        success_url="https://partner.example/success",
        error_url="https://partner.example/error",
    )


def callbacks(side: SandboxSide) -> list[SimCallback]:
    return list(SimCallback.objects.filter(provider=side.provider).order_by("pk"))


def verified_events(connector: MobileMoneyProvider, callback: SimCallback) -> list[CallbackEvent]:
    body = bytes(callback.body)
    assert connector.verify_callback(callback.headers, body, time.time()) is True
    return connector.parse_callback(callback.headers, body)


def signature_timestamp(headers: dict[str, Any]) -> int:
    value = next(value for key, value in headers.items() if key.lower().endswith("signature"))
    return int(next(part for part in value.split(",") if part.startswith("t="))[2:])


def with_foreign_secrets(settings: ConnectorSettings) -> ConnectorSettings:
    """The same connection with secrets the simulator never used."""
    secret_keys = ("webhook_secret", "callback_signing_secret", "callback_api_key")
    credentials = {
        key: ("not-the-secret" if key in secret_keys else value) for key, value in settings.credentials.items()
    }
    return dataclasses.replace(settings, credentials=credentials)
