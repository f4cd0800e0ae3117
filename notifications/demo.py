"""Demo seeding of the push rail: a sandbox FCM project and the test-mode provider partner
``fcm`` with its connection to it (``manage.py seed_demo``). Idempotent."""

from __future__ import annotations

import secrets
from typing import Any

from partners.demo import DemoContext, register_seeder
from partners.models import Mode, Partner
from partners.services import partner_create, provider_connection_upsert
from sandbox.services import account_register

PROVIDER = "fcm"
DEMO_PROJECT_ID = "addon-sandbox"


def fcm_sandbox_connect(
    *,
    sandbox_url: str,
    access_token: str | None = None,
    project_id: str = DEMO_PROJECT_ID,
    read_timeout_seconds: float = 5.0,
) -> Partner:
    """Register the sandbox FCM project and point the test-mode ``fcm`` provider connection at it.

    The access token only opens the simulated FCM project (docs/providers/fcm.md §4); it is generated
    when not given, never written in the repository.
    """
    access_token = access_token or "ya29.sandbox-" + secrets.token_urlsafe(24)
    account_register(provider=PROVIDER, api_key=access_token, extra={"project_id": project_id})
    partner = Partner.objects.filter(code=PROVIDER).first()
    if partner is None:
        partner = partner_create(name="Firebase Cloud Messaging", code=PROVIDER, mode=Mode.TEST, scopes=()).partner
    provider_connection_upsert(
        partner=partner,
        mode=Mode.TEST,
        connector=PROVIDER,
        base_url=sandbox_url.rstrip("/") + "/fcm",
        credentials={"project_id": project_id, "access_token": access_token},
        connect_timeout_seconds=2.0,
        read_timeout_seconds=read_timeout_seconds,
        is_enabled=True,
    )
    return partner


@register_seeder("push")
def seed_push(context: DemoContext) -> dict[str, Any]:
    fcm_sandbox_connect(
        sandbox_url=context.sandbox_url,
        access_token="ya29.sandbox-" + context.secret("fcm_token"),
        read_timeout_seconds=context.read_timeout_seconds,
    )
    return {"provider": PROVIDER, "sandbox": context.sandbox_url + "fcm", "project_id": DEMO_PROJECT_ID}
