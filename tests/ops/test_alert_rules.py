"""deploy/prometheus: promtool accepts the rules and the scrape configuration, the rule unit tests
pass, every alert is tested both firing and quiet, and documented in docs/runbook.md."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.processes import ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "addon-partner.yml"
RULE_TESTS = PROMETHEUS / "tests" / "addon-partner.test.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)


def alerts() -> list[dict[str, object]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_rules_and_configuration() -> None:
    rules = promtool("check", "rules", str(RULES))
    assert rules.returncode == 0 and "SUCCESS" in rules.stdout, rules.stdout + rules.stderr
    config = promtool("check", "config", "--syntax-only", str(PROMETHEUS / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_rule_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases = [
        case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test.get("alert_rule_test", [])
    ]
    for alert in alerts():
        mine = [case for case in cases if case["alertname"] == alert["alert"]]
        assert any(case.get("exp_alerts") for case in mine), f"{alert['alert']} never shown firing"
        assert any(not case.get("exp_alerts") for case in mine), f"{alert['alert']} never shown quiet"


def test_every_alert_has_a_summary_a_description_and_a_runbook_section() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    names = [alert["alert"] for alert in alerts()]
    assert len(names) >= 10
    for alert in alerts():
        annotations = alert["annotations"]
        assert isinstance(annotations, dict) and annotations["summary"] and annotations["description"]
        page, _, anchor = str(annotations["runbook_url"]).partition("#")
        assert page == "docs/runbook.md" and anchor in anchors, f"{alert['alert']}: {annotations['runbook_url']}"
        assert alert["labels"]["severity"] in ("page", "ticket")  # type: ignore[index]
    # and the runbook's own cross-references land on a section
    for link in re.findall(r"\]\(#([^)]+)\)", runbook):
        assert link in anchors, f"docs/runbook.md links to a missing section #{link}"
