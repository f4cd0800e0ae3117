"""One retry / poll / review policy (core/policy.py), declared per rail through config/env.py,
and the retention of provider call records."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from config.env import REGISTRY
from core.policy import RetryPolicy, policy_for
from ledger.models import ProviderCall
from ledger.services import provider_calls_purge
from tests.processes import ROOT

RAILS = {"bills": "BILLS", "mobile_money": "MOBILEMONEY", "banking": "BANKING", "push": "PUSH", "webhooks": "WEBHOOK"}


def test_backoff_is_exponential_and_bounded() -> None:
    policy = RetryPolicy(first_delay=2, max_delay=60, max_attempts=3, review_after=3600)
    assert [policy.delay(n) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    assert policy.delay(10_000) == 60  # no overflow however many attempts
    assert (policy.is_exhausted(2), policy.is_exhausted(3)) == (False, True)
    now = timezone.now()
    assert policy.is_overdue(now - timedelta(hours=2), now=now) and not policy.is_overdue(now, now=now)
    with pytest.raises(ValueError):
        RetryPolicy(first_delay=10, max_delay=5, max_attempts=1, review_after=1)


@pytest.mark.parametrize("rail", sorted(RAILS))
def test_every_rail_has_a_policy_declared_through_env(rail: str) -> None:
    for suffix in ("POLL_FIRST_SECONDS", "POLL_MAX_SECONDS", "MAX_ATTEMPTS", "REVIEW_AFTER_SECONDS"):
        assert f"{RAILS[rail]}_{suffix}" in REGISTRY
    live, test = policy_for(rail, "live"), policy_for(rail, "test")
    assert test.max_delay <= 10 and test.first_delay <= live.first_delay and test.review_after <= live.review_after


def test_a_rail_without_a_policy_is_an_error() -> None:
    with pytest.raises(LookupError):
        policy_for("carrier_pigeon")


def test_the_environment_sets_a_rails_policy() -> None:
    code = (
        "import django; django.setup(); from core.policy import policy_for; "
        "p = policy_for('banking'); print(p.first_delay, p.max_attempts)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV": "test",
        "BANKING_POLL_FIRST_SECONDS": "7",
        "BANKING_MAX_ATTEMPTS": "9",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["7.0", "9"]
    bad = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "BANKING_MAX_ATTEMPTS": "many"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "BANKING_MAX_ATTEMPTS" in bad.stderr


@pytest.mark.django_db
def test_provider_call_records_are_purged_after_the_retention(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PROVIDER_CALL_RETENTION_DAYS = 30
    now = timezone.now()
    for age in (31, 29):
        ProviderCall.objects.create(
            rail="bills", provider="niirpay", operation="pay", started_at=now - timedelta(days=age)
        )
    assert provider_calls_purge(now=now) == 1
    assert list(ProviderCall.objects.values_list("started_at", flat=True)) == [now - timedelta(days=29)]
