"""/metrics: guarded outside development; the scrape-time families and the release on /health."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core.errors import IllegalTransition
from core.money import Money
from core.release import Release, release_read
from ledger.balances import _sources, register_float_source
from ledger.models import Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_transition
from ops.services import provider_floats_refresh
from partners.models import Mode, Partner
from tests.core.test_settings import production_env, run_manage

pytestmark = pytest.mark.django_db  # every scrape reads the unknown backlog


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return samples(response.content)


def test_metrics_refuse_addresses_outside_the_allowed_networks(client: Client) -> None:
    assert settings.METRICS_OPEN is False  # DJANGO_ENV=test is "outside development"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::1").status_code == 403
    # relayed by a proxy on loopback: the real client is unknown, so refused
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    with override_settings(METRICS_ALLOWED_NETWORKS=[ipaddress.ip_network("10.20.0.0/16")]):
        assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    with override_settings(METRICS_OPEN=True):
        assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200


def test_metrics_allowed_cidrs_is_parsed_strictly() -> None:
    result = run_manage(production_env(METRICS_ALLOWED_CIDRS="10.0.0.0/8,not-a-network"), "check")
    assert result.returncode != 0 and "METRICS_ALLOWED_CIDRS" in result.stderr
    code = "from django.conf import settings as s; print(s.METRICS_OPEN, [str(n) for n in s.METRICS_ALLOWED_NETWORKS])"
    result = run_manage(production_env(METRICS_ALLOWED_CIDRS="10.1.0.0/16, 192.0.2.7"), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False ['10.1.0.0/16', '192.0.2.7/32']"


@pytest.fixture
def partner(db: None) -> Partner:
    partner = Partner.objects.create(name="Ops Partner", code="ops-partner")
    account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    return partner


def create(partner: Partner, provider: str) -> Transaction:
    account = account_get_or_create_partner_account(partner=partner, mode=Mode.TEST, currency="XOF")
    return transaction_create(
        partner=partner,
        mode=Mode.TEST,
        kind=Transaction.Kind.CASH_IN,
        provider=provider,
        money=Money(1_000, "XOF"),
        hold_account=account,
    )


def to_unknown(transaction: Transaction) -> None:
    transaction_transition(transaction=transaction, to_status="processing", cause="worker")
    transaction_transition(transaction=transaction, to_status="unknown", cause="worker")


@pytest.mark.django_db(transaction=True)
def test_unknown_backlog_and_its_oldest_age_per_provider(client: Client, partner: Partner) -> None:
    before = scrape(client)
    assert before[("addon_unknown_transactions", (("provider", "wave"),))] == 0
    assert before[("addon_unknown_oldest_age_seconds", (("provider", "wave"),))] == 0
    old, recent, settled = create(partner, "wave"), create(partner, "wave"), create(partner, "orange_money")
    to_unknown(old)
    to_unknown(recent)
    to_unknown(settled)
    transaction_transition(transaction=settled, to_status="succeeded", cause="poller")
    Transaction.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(hours=2))

    after = scrape(client)
    assert after[("addon_unknown_transactions", (("provider", "wave"),))] == 2
    assert after[("addon_unknown_transactions", (("provider", "orange_money"),))] == 0
    assert 7200 <= after[("addon_unknown_oldest_age_seconds", (("provider", "wave"),))] < 7200 + 120
    assert after[("addon_unknown_oldest_age_seconds", (("provider", "orange_money"),))] == 0
    assert after[("addon_ops_collector_up", (("source", "database"),))] == 1


@pytest.mark.django_db(transaction=True)
def test_transitions_are_counted_once_committed(partner: Partner) -> None:
    def count(status: str) -> float:
        labels = {"kind": "cash_in", "provider": "wave", "status": status}
        return REGISTRY.get_sample_value("addon_transactions_total", labels) or 0.0

    before = {status: count(status) for status in ("pending", "processing", "unknown", "failed")}
    transaction = create(partner, "wave")
    to_unknown(transaction)
    transaction_transition(transaction=transaction, to_status="failed", cause="poller")
    with pytest.raises(IllegalTransition):  # an illegal move writes nothing and counts nothing
        transaction_transition(transaction=transaction, to_status="succeeded", cause="poller")
    assert {status: count(status) - before[status] for status in before} == {
        "pending": 1,
        "processing": 1,
        "unknown": 1,
        "failed": 1,
    }


def test_queue_lengths_are_read_from_the_broker(client: Client) -> None:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.rpush("payments", *[b"{}"] * 3)
    broker.rpush("payments\x06\x163", b"{}")  # a priority step of the same queue
    broker.rpush("bulk", b"{}")
    after = scrape(client)
    assert after[("addon_celery_queue_length", (("queue", "payments"),))] == 4
    assert after[("addon_celery_queue_length", (("queue", "bulk"),))] == 1
    assert after[("addon_celery_queue_length", (("queue", "outbox"),))] == 0
    assert after[("addon_ops_collector_up", (("source", "broker"),))] == 1


def test_a_broker_that_is_down_does_not_fail_the_scrape(client: Client) -> None:
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        after = scrape(client)
    assert after[("addon_ops_collector_up", (("source", "broker"),))] == 0
    assert not any(name == "addon_celery_queue_length" for name, _ in after)


@pytest.fixture
def float_source() -> Iterator[None]:
    calls: list[str] = []

    def source(mode: str) -> Money:
        calls.append(mode)
        if mode == "live":
            raise LookupError("no live connection")
        return Money(7_500_000, "XOF")

    register_float_source("ops_test_provider", source)
    yield
    _sources.pop("ops_test_provider")


def test_float_balances_become_gauges(client: Client, float_source: None) -> None:
    provider_floats_refresh(modes=("live", "test"))
    after = scrape(client)
    labels = (("currency", "XOF"), ("mode", "test"), ("provider", "ops_test_provider"))
    assert after[("addon_provider_float_minor", labels)] == 7_500_000
    assert not any(
        name == "addon_provider_float_minor" and ("mode", "live") in key and ("provider", "ops_test_provider") in key
        for name, key in after
    )


def test_health_reports_the_running_release(client: Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "RELEASE").write_text("# make dist\nversion=1.4.0\ncommit=0123abc\nname=20250101T000000Z-0123abc\n")
    release = release_read(tmp_path)
    assert release == Release(version="1.4.0", commit="0123abc", name="20250101T000000Z-0123abc")
    with override_settings(RELEASE=release):
        live = json.loads(client.get("/health/live").content)
        ready = json.loads(client.get("/health/ready").content)
    assert live["release"] == ready["release"] == release.as_dict()
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "2.0.0"\n')
    (tmp_path / "RELEASE").unlink()
    assert release_read(tmp_path) == Release(version="2.0.0", commit="unknown", name="")


@pytest.mark.django_db(transaction=True)
def test_callback_delay_quantiles_per_provider(client: Client, partner: Partner) -> None:
    delays = {}
    for seconds in (10, 20, 30):
        transaction = create(partner, "wave")
        transaction_transition(transaction=transaction, to_status="processing", cause="worker")
        transaction_transition(transaction=transaction, to_status="succeeded", cause="callback")
        Transaction.objects.filter(pk=transaction.pk).update(
            created_at=transaction.created_at - timedelta(seconds=seconds)
        )
        delays[seconds] = transaction
    polled = create(partner, "orange_money")  # resolved by a poll, not a callback: no delay series
    transaction_transition(transaction=polled, to_status="processing", cause="worker")
    transaction_transition(transaction=polled, to_status="succeeded", cause="poller")

    after = scrape(client)
    median = after[("addon_callback_delay_seconds", (("provider", "wave"), ("quantile", "0.5")))]
    assert 20 <= median < 22
    assert 29 <= after[("addon_callback_delay_seconds", (("provider", "wave"), ("quantile", "0.95")))] < 32
    assert not any(
        name == "addon_callback_delay_seconds" and ("provider", "orange_money") in key for name, key in after
    )
