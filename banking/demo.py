"""Demo seeding of the bank-transfer rail (``manage.py seed_demo``): the simulated core banking
and partner bank accounts, and the test-mode provider partners ``core-banking`` and
``partner-bank`` with their connections to them. Idempotent (accounts are reset, connections
upserted); the partner bank posts its pacs.002 callbacks to ``/callbacks/partner-bank``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banking.services.common import CORE_BANKING, CORE_BANKING_CODE, PARTNER_BANK, PARTNER_BANK_CODE
from partners.demo import DemoContext, register_seeder
from partners.models import Mode, Partner
from partners.services import partner_create, provider_connection_upsert
from sandbox.banks.accounts import (
    core_account_register,
    core_connector_credentials,
    partner_account_register,
    partner_connector_credentials,
)


@dataclass(frozen=True)
class BankingSandbox:
    core_banking: Partner
    partner_bank: Partner


def _provider_partner(code: str, name: str) -> Partner:
    partner = Partner.objects.filter(code=code).first()
    return partner or partner_create(name=name, code=code, mode=Mode.TEST, scopes=()).partner


def banking_sandbox_connect(
    *,
    sandbox_url: str,
    callback_url: str,
    settlement_delay_seconds: float = 2.0,
    read_timeout_seconds: float = 5.0,
) -> BankingSandbox:
    """Open both sandbox accounts and point the test-mode connections at them."""
    base = sandbox_url.rstrip("/") + "/banks/"
    core = core_account_register()
    bank = partner_account_register(callback_url=callback_url, settlement_delay_seconds=settlement_delay_seconds)
    core_partner = _provider_partner(CORE_BANKING_CODE, "Core banking")
    bank_partner = _provider_partner(PARTNER_BANK_CODE, "Partner bank")
    for partner, connector, path, credentials in (
        (core_partner, CORE_BANKING, "core/", core_connector_credentials(core)),
        (bank_partner, PARTNER_BANK, "partner/", partner_connector_credentials(bank)),
    ):
        provider_connection_upsert(
            partner=partner,
            mode=Mode.TEST,
            connector=connector,
            base_url=base + path,
            credentials=credentials,
            connect_timeout_seconds=2.0,
            read_timeout_seconds=read_timeout_seconds,
            is_enabled=True,
        )
    return BankingSandbox(core_banking=core_partner, partner_bank=bank_partner)


@register_seeder("banking")
def seed_banking(context: DemoContext) -> dict[str, Any]:
    banking_sandbox_connect(
        sandbox_url=context.sandbox_url,
        callback_url=context.callback_url("partner-bank"),
        read_timeout_seconds=context.read_timeout_seconds,
    )
    return {
        "providers": [CORE_BANKING_CODE, PARTNER_BANK_CODE],
        "sandbox": context.sandbox_url + "banks/",
        "callback_url": context.callback_url("partner-bank"),
    }
