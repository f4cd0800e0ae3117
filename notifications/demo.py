"""Demo seeding of the push rail: a sandbox FCM project and the test-mode provider partner
``fcm`` with its connection to it (``manage.py seed_demo``). Idempotent."""

from __future__ import annotations

from typing import Any

from partners.demo import DemoContext, register_seeder
from partners.models import Mode, Partner
from partners.services import partner_create, provider_connection_upsert
from sandbox.services import account_register

PROVIDER = "fcm"
DEMO_PROJECT_ID = "addon-sandbox"
# Sandbox-only access token: it opens the simulated FCM project and nothing else (providers.md §5.3).
DEMO_ACCESS_TOKEN = "ya29.sandbox-demo-addon-partner"  # noqa: S105 - a sandbox-only demo token


def fcm_sandbox_connect(
    *, sandbox_url: str, access_token: str = DEMO_ACCESS_TOKEN, project_id: str = DEMO_PROJECT_ID
) -> Partner:
    """Register the sandbox FCM project and point the test-mode ``fcm`` provider connection at it."""
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
        read_timeout_seconds=5.0,
        is_enabled=True,
    )
    return partner


@register_seeder("push")
def seed_push(context: DemoContext) -> dict[str, Any]:
    fcm_sandbox_connect(sandbox_url=context.sandbox_url)
    return {"provider": PROVIDER, "sandbox": context.sandbox_url + "fcm", "project_id": DEMO_PROJECT_ID}
