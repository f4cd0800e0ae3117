"""Shared setup of the mobile-money service/API tests: the Wave and Orange Money provider
partners with test-mode connections to the sandbox served by ``live_server``, and a partner
with its signed API client."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import Account, OutboxEvent, Transaction
from ledger.services import account_get_or_create_partner_account
from partners.models import ALL_SCOPES, Partner
from partners.services import partner_create, provider_connection_upsert
from sandbox.models import SimCallback, SimEffect
from sandbox.orange_money.accounts import om_account_register, om_connector_credentials
from sandbox.services import SimAccount
from sandbox.wave.accounts import wave_account_register, wave_connector_credentials

EFFECTS = {"wave": "payout", "orange_money": "cash_in"}
CHECKOUT_EFFECTS = {"wave": "checkout_payment", "orange_money": "merchant_payment"}


def connect_providers(base_url: str, *, read_timeout: float = 1.5) -> dict[str, SimAccount]:
    """Register sandbox accounts and the provider partners' test connections; the accounts."""
    wave = wave_account_register(callback_url=f"{base_url}/callbacks/wave")
    om = om_account_register(callback_url=f"{base_url}/callbacks/orange-money")
    for name, code, connector, credentials in (
        ("Wave", "wave", "wave", wave_connector_credentials(wave)),
        ("Orange Money", "orange-money", "orange_money", om_connector_credentials(om)),
    ):
        provider = (
            Partner.objects.filter(code=code).first()
            or partner_create(name=name, code=code, mode="test", scopes=[]).partner
        )
        provider_connection_upsert(
            partner=provider,
            mode="test",
            connector=connector,
            base_url=f"{base_url}/sandbox/{code}/",
            credentials=credentials,
            connect_timeout_seconds=2.0,
            read_timeout_seconds=read_timeout,
        )
    return {"wave": wave, "orange_money": om}


@dataclass
class PartnerSide:
    partner: Partner
    client: AddonPartnerClient

    def account(self) -> Account:
        return account_get_or_create_partner_account(partner=self.partner, mode="test", currency="XOF")

    def money(self) -> tuple[int, int]:
        account = Account.objects.get(pk=self.account().pk)
        return account.balance_minor, account.held_minor


def make_partner(base_url: str, name: str = "Acme Pay", scopes: Any = ALL_SCOPES) -> PartnerSide:
    created = partner_create(name=name, mode="test", scopes=scopes)
    side = PartnerSide(created.partner, AddonPartnerClient(base_url, created.api_key, created.signing_secret))
    side.account()
    return side


def paid_count(provider: str, reference: str) -> int:
    return SimEffect.objects.filter(provider=provider, effect=EFFECTS[provider], reference=reference).count()


def outbox_types(transaction: Transaction) -> list[str]:
    rows = OutboxEvent.objects.filter(aggregate_id=transaction.public_id).order_by("pk")
    return [row.type for row in rows]


def cash_in_body(provider: str, suffix: str = "1234", amount: str = "1500", **extra: Any) -> dict[str, Any]:
    return {
        "provider": provider,
        "msisdn": f"+22177000{suffix}",
        "amount": amount,
        "currency": "XOF",
        "client_reference": extra.pop("client_reference", f"order-{provider}-{suffix}"),
        **extra,
    }


CALLBACK_PATHS = {"wave": "wave", "orange_money": "orange-money"}


def post_callback(base_url: str, provider: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver a callback to the gateway as the provider would; the HTTP status."""
    request = urllib.request.Request(
        f"{base_url}/callbacks/{CALLBACK_PATHS[provider]}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def deliver_sandbox_callbacks(base_url: str, provider: str, times: int = 1) -> list[int]:
    """Deliver every callback the simulator queued (``times`` each); the HTTP statuses."""
    sim_provider = {"wave": "wave", "orange_money": "orange_money"}[provider]
    statuses = []
    for callback in SimCallback.objects.filter(provider=sim_provider).order_by("pk"):
        for _ in range(times):
            statuses.append(post_callback(base_url, provider, bytes(callback.body), dict(callback.headers)))
    return statuses
