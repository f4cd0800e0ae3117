"""Dashboards and alerts against the real thing.

- Every PromQL expression of every dashboard panel and alert rule parses (promql-parser, and
  promtool on a generated rule file), and every metric it names is exported by a running gateway
  (gunicorn with two workers + a Celery worker, summed through PROMETHEUS_MULTIPROC_DIR) after a
  cash-in, a bill payment and a bank transfer.
- A real Prometheus scrapes that gateway with the shipped rules, their windows scaled from minutes
  to seconds: Wave made to fail (MSISDNs ending 9901) fires Wave's success-rate page while Orange
  Money, succeeding meanwhile, stays quiet.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from banking.demo import banking_sandbox_connect
from clients.python.addon_partner_client import AddonPartnerClient
from config.celery import app as celery_app
from ledger.models import Transaction
from partners.services import partner_create
from tests.banking.test_api_transfers import transfer_body
from tests.mobilemoney.api_support import PartnerSide, cash_in_body, connect_providers, make_partner
from tests.payments.test_api_bills import bills_setup
from tests.processes import ROOT, celery_worker, free_port, gunicorn, stop, wait_until

RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))
NOT_EXPORTED = {"up"}  # made by Prometheus itself; names with ":" are our recording rules
FIRING_WITHIN_SECONDS = 120


def rule_expressions() -> dict[str, str]:
    found = {}
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                found[f"{path.name}: {rule.get('alert') or rule.get('record')}"] = rule["expr"]
    return found


def dashboard_expressions() -> dict[str, str]:
    found = {}
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                # Grafana's own variable, replaced before the query reaches Prometheus
                found[f"{path.name}: {panel['title']} {target['refId']}"] = target["expr"].replace(
                    "$__rate_interval", "1m"
                )
    return found


def metric_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, promql_parser.VectorSelector):
        names.add(node.name or "")
    for attribute in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if isinstance(child, promql_parser.Expr) or type(child).__module__ == "promql_parser":
            names |= metric_names(child)
    for argument in getattr(node, "args", None) or []:
        names |= metric_names(argument)
    return names


def test_every_expression_parses_with_promtool_and_names_its_metrics(tmp_path: Path) -> None:
    expressions = {**rule_expressions(), **dashboard_expressions()}
    assert len(DASHBOARDS) >= 2 and len(expressions) > 60
    generated = {
        "groups": [
            {
                "name": "every-expression",
                "rules": [
                    {"record": f"check:expression_{i}", "expr": expr} for i, expr in enumerate(expressions.values())
                ],
            }
        ]
    }
    (tmp_path / "expressions.yml").write_text(yaml.safe_dump(generated))
    result = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "expressions.yml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for where, expr in expressions.items():
        names = metric_names(promql_parser.parse(expr))
        assert "" not in names and (names or expr.startswith("vector(")), f"{where}: no metric name in {expr}"
    # the walk sees through every kind of node the files use
    assert metric_names(
        promql_parser.parse("histogram_quantile(0.9, sum by (le) (rate(a_bucket[5m]))) / on () b or -c")
    ) == {
        "a_bucket",
        "b",
        "c",
    }


def exported_names(body: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(body):
        names |= {sample.name for sample in family.samples}
    return names


def scrape(base: str) -> str:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        return response.read().decode()


def scaled_rules(text: str) -> str:
    """The shipped rules with every duration read as seconds instead of minutes (1h → 60s)."""
    seconds_per = {"m": 1, "h": 60, "d": 1440}

    def scale(match: re.Match[str]) -> str:
        return f"{int(match.group(1)) * seconds_per[match.group(2)]}s"

    text = re.sub(r"(?<=\[)(\d+)([mhd])(?=\])", scale, text)
    return re.sub(
        r"(?m)^(\s+for: )(\d+)([mhd])$", lambda m: f"{m.group(1)}{int(m.group(2)) * seconds_per[m.group(3)]}s", text
    )


def start_prometheus(tmp_path: Path, target: str) -> tuple[str, subprocess.Popen[bytes]]:
    rules = tmp_path / "rules.yml"
    rules.write_text(scaled_rules(RULES[0].read_text()))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "addon-partner", "static_configs": [{"targets": [target]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return f"http://127.0.0.1:{port}", process


def alerts(prometheus: str) -> list[dict[str, Any]]:
    try:
        with urllib.request.urlopen(prometheus + "/api/v1/alerts", timeout=5) as response:
            return json.load(response)["data"]["alerts"]  # type: ignore[no-any-return]
    except OSError:
        return []


def cash_in(side: PartnerSide, provider: str, suffix: str, key: str) -> None:
    status, _, body = side.client.post(
        "/api/v1/mobile-money/cash-ins", json=cash_in_body(provider, suffix, client_reference=key), idempotency_key=key
    )
    assert status in (201, 202), body


def drive_one_of_each(base: str) -> None:
    """A cash-in (Wave), a bill payment (Niirpay) and a transfer to another bank, over HTTP."""
    connect_providers(base)
    side = make_partner(base)
    cash_in(side, "wave", "1234", "first-cash-in")
    bills = bills_setup(SimpleNamespace(url=base))
    quote = bills.quote("WOYOFAL", "14212345678", amount="5000")
    assert bills.pay(quote["id"]).status in (201, 202)
    banking_sandbox_connect(
        sandbox_url=base + "/sandbox/",
        callback_url=base + "/callbacks/partner-bank",
        settlement_delay_seconds=0.3,
        read_timeout_seconds=1.0,
    )
    bank = partner_create(name="Banque Test", mode="test", scopes=["banking.transfers"])
    client = AddonPartnerClient(base, bank.api_key, bank.signing_secret)
    status, _, body = client.post(
        "/api/v1/banking/transfers", json=transfer_body("000700001000"), idempotency_key="t-1"
    )
    assert status == 202, body
    wait_until(
        lambda: Transaction.objects.filter(status="succeeded").count() == 3,
        timeout=60,
        message="the cash-in, bill payment and transfer did not all succeed",
    )
    # what beat would run on its schedule
    celery_app.send_task("ops.refresh_provider_floats")
    celery_app.send_task("events.relay_outbox")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gateway_exports_every_metric_and_prometheus_fires_for_the_failing_provider(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "SANDBOX_HANG_SECONDS": "2"}
    with (
        gunicorn(workers=2, env=env, log=tmp_path / "web.log") as (base, _),
        celery_worker(tmp_path / "worker.log", env=env),
    ):
        drive_one_of_each(base)
        wanted = {
            name
            for expr in {**rule_expressions(), **dashboard_expressions()}.values()
            for name in metric_names(promql_parser.parse(expr))
            if ":" not in name and name not in NOT_EXPORTED
        }
        missing: set[str] = set()

        def all_exported() -> bool:
            nonlocal missing
            missing = wanted - exported_names(scrape(base))
            return not missing

        wait_until(all_exported, timeout=30, message=f"not exported by /metrics: {missing}")

        prometheus, process = start_prometheus(tmp_path, base.removeprefix("http://"))
        side = make_partner(base, name="Load Partner")
        try:
            deadline, number, firing = time.monotonic() + FIRING_WITHIN_SECONDS, 0, False
            while time.monotonic() < deadline and not firing:
                number += 1
                cash_in(side, "wave", "9901", f"rejected-{number}")  # the simulator refuses 9901
                cash_in(side, "orange_money", "1234", f"paid-{number}")
                current = alerts(prometheus)
                firing = any(
                    alert["labels"]["alertname"] == "ProviderSuccessRateBudgetBurnFast"
                    and alert["labels"].get("provider") == "wave"
                    and alert["state"] == "firing"
                    for alert in current
                )
                time.sleep(0.5)
            assert firing, f"Wave's success-rate alert did not fire within {FIRING_WITHIN_SECONDS}s: {current}"
            succeeded = Transaction.objects.filter(provider="orange_money", status="succeeded").count()
            assert succeeded >= number - 2  # Orange Money really worked meanwhile
            assert not [a for a in current if a["labels"].get("provider") not in (None, "wave")], current
            assert not [a for a in current if a["labels"]["alertname"] == "GatewayDown"], current
        finally:
            stop(process)


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("grafana_dashboards", ROOT / "scripts" / "grafana_dashboards.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    expected = {"gateway.json": generator.gateway()} | {
        f"provider-{code}.json": generator.provider(code, name) for code, name in generator.PROVIDERS.items()
    }
    assert {path.name: json.loads(path.read_text()) for path in DASHBOARDS} == expected
