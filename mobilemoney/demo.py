"""Demo seeding of the mobile-money rail (``manage.py seed_demo``): sandbox Wave and Orange Money
accounts whose callbacks come back to this gateway, and the test-mode provider partners ``wave``
and ``orange-money`` with their connections. Idempotent: fixed sandbox-only identifiers."""

from __future__ import annotations

from typing import Any

from partners.demo import DemoContext, register_seeder
from partners.models import Mode, Partner
from partners.services import partner_create, provider_connection_upsert
from sandbox.orange_money.accounts import om_account_register, om_connector_credentials
from sandbox.wave.accounts import wave_account_register, wave_connector_credentials

# Sandbox-only identifiers: they open accounts at the simulators and nowhere else.
DEMO_WAVE_API_KEY = "wave_sn_sandbox_demo_addon_partner"
DEMO_OM_CLIENT_ID = "om_sandbox_demo_addon_partner"
NAMES = {"wave": "Wave", "orange_money": "Orange Money"}
# The built-in providers' partners (their provider code is their connector's name) and the
# callback paths their sandbox accounts post to (mobilemoney/callback_urls.py).
PROVIDER_CODES = {"wave": "wave", "orange_money": "orange-money"}
CALLBACK_PATHS = {"wave": "wave", "orange_money": "orange-money"}


def _connect(provider: str, base_url: str, credentials: dict[str, str], read_timeout_seconds: float) -> None:
    code = PROVIDER_CODES[provider]
    partner = Partner.objects.filter(code=code).first()
    if partner is None:
        partner = partner_create(name=NAMES[provider], code=code, mode=Mode.TEST, scopes=()).partner
    provider_connection_upsert(
        partner=partner,
        mode=Mode.TEST,
        connector=provider,
        base_url=base_url,
        credentials=credentials,
        connect_timeout_seconds=2.0,
        read_timeout_seconds=read_timeout_seconds,
        is_enabled=True,
    )


@register_seeder("mobile_money")
def seed_mobile_money(context: DemoContext) -> dict[str, Any]:
    wave = wave_account_register(
        api_key=DEMO_WAVE_API_KEY,
        webhook_secret="wave_sn_WHS_" + context.secret("wave_webhook_secret"),
        callback_url=context.callback_url(CALLBACK_PATHS["wave"]),
    )
    _connect("wave", context.sandbox_url + "wave/", wave_connector_credentials(wave), context.read_timeout_seconds)
    om = om_account_register(
        client_id=DEMO_OM_CLIENT_ID,
        client_secret=context.secret("orange_money_client_secret"),
        callback_url=context.callback_url(CALLBACK_PATHS["orange_money"]),
    )
    _connect(
        "orange_money",
        context.sandbox_url + "orange-money/",
        om_connector_credentials(om),
        context.read_timeout_seconds,
    )
    return {
        "providers": ["wave", "orange_money"],
        "sandbox": [context.sandbox_url + p for p in ("wave/", "orange-money/")],
    }
