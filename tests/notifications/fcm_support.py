"""Test helpers for the push rail: a sandbox FCM connection and read-back of what FCM received."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from core.http import Timeouts
from partners.registry import ConnectorSettings
from sandbox.fcm.outcomes import REQUESTS_COUNTER, attempts_counter
from sandbox.fcm.views import MESSAGE_KIND
from sandbox.models import SimObject
from sandbox.services import account_register, counter_value

SANDBOX_PROJECT = "addon-sandbox"
FAST_TIMEOUTS = Timeouts(connect=2.0, read=1.5)


def sandbox_fcm_settings(
    sandbox_url: str,
    *,
    project_id: str = SANDBOX_PROJECT,
    limits: dict[str, Any] | None = None,
    timeouts: Timeouts = FAST_TIMEOUTS,
) -> ConnectorSettings:
    """A test-mode FCM connection to the sandbox, its access token registered there."""
    access_token = f"ya29.sandbox-{secrets.token_urlsafe(16)}"
    account_register(provider="fcm", api_key=access_token, extra={"project_id": project_id})
    return ConnectorSettings(
        connection_id=f"pcn_test_fcm_{secrets.token_hex(4)}",
        connector="fcm",
        provider_code="fcm",
        mode="test",
        base_url=sandbox_url.rstrip("/") + "/fcm",
        credentials={"project_id": project_id, "access_token": access_token},
        timeouts=timeouts,
        limits=limits or {},
    )


def push_policy_first_delay(settings: Any, seconds: float) -> None:
    """Set the "push" execution policy's first delay (core/policy.py) for one test."""
    policies = settings.EXECUTION_POLICIES
    settings.EXECUTION_POLICIES = {**policies, "push": replace(policies["push"], first_delay=seconds)}


def delivered() -> list[dict[str, Any]]:
    """Every message the sandbox FCM delivered, oldest first (each as recorded: target, message…)."""
    return [row.data for row in SimObject.objects.filter(provider="fcm", kind=MESSAGE_KIND).order_by("pk")]


def delivered_to(target: str) -> list[dict[str, Any]]:
    return [record for record in delivered() if record["target"] == target]


def requests_received() -> int:
    """How many requests reached the sandbox FCM at all (valid or not)."""
    return counter_value("fcm", REQUESTS_COUNTER)


def attempts_for(target: str) -> int:
    return counter_value("fcm", attempts_counter(target))
