"""Demo seeding of the bills rail: a Niirpay sandbox account and the test-mode provider
partner ``niirpay`` with its connection to it (``manage.py seed_demo``). Idempotent."""

from __future__ import annotations

from typing import Any

from partners.demo import DemoContext, register_seeder
from partners.models import Mode, Partner
from partners.services import partner_create, provider_connection_upsert
from payments.services.catalog import PROVIDER
from sandbox.niirpay.accounts import register_account

# Sandbox-only credentials: they open an account at the simulated Niirpay and nowhere else.
DEMO_API_KEY = "np_test_demo_addon_partner"


def niirpay_sandbox_connect(
    *, sandbox_url: str, api_key: str, api_secret: str, read_timeout_seconds: float = 5.0, **knobs: Any
) -> Partner:
    """Open the sandbox account and point the test-mode ``niirpay`` provider connection at it."""
    register_account(api_key=api_key, api_secret=api_secret, **knobs)
    partner = Partner.objects.filter(code=PROVIDER).first()
    if partner is None:
        partner = partner_create(name="Niirpay", code=PROVIDER, mode=Mode.TEST, scopes=()).partner
    provider_connection_upsert(
        partner=partner,
        mode=Mode.TEST,
        connector=PROVIDER,
        base_url=sandbox_url.rstrip("/") + "/niirpay/",
        credentials={"api_key": api_key, "api_secret": api_secret},
        connect_timeout_seconds=2.0,
        read_timeout_seconds=read_timeout_seconds,
        is_enabled=True,
    )
    return partner


@register_seeder("bills")
def seed_bills(context: DemoContext) -> dict[str, Any]:
    niirpay_sandbox_connect(
        sandbox_url=context.sandbox_url,
        api_key=DEMO_API_KEY,
        api_secret=context.secret("niirpay_api_secret"),
        read_timeout_seconds=context.read_timeout_seconds,
    )
    return {"provider": PROVIDER, "sandbox": context.sandbox_url + "niirpay/"}
