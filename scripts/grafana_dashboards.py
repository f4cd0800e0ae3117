"""Write deploy/grafana/*.json: the gateway's dashboard and one per provider.

The JSON files are committed and imported into Grafana as they are (Dashboards > Import, or a
file provisioning provider pointed at deploy/grafana/); this program is how they are changed:
edit the panels here, run ``.venv/bin/python scripts/grafana_dashboards.py``, commit both.
Every expression is checked by tests/ops/test_observability.py (parses as PromQL; every metric
it names is exported by a running gateway).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "deploy" / "grafana"
RATE = "$__rate_interval"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PROVIDERS = {
    "wave": "Wave",
    "orange_money": "Orange Money",
    "niirpay": "Niirpay (bills)",
    "partner_bank": "Partner bank (transfers out)",
    "core_banking": "Core banking (transfers in)",
}


def panel(
    title: str, targets: list[tuple[str, str]], *, unit: str = "short", kind: str = "timeseries"
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(uid: str, title: str, panels: list[dict[str, Any]], tags: list[str]) -> dict[str, Any]:
    for index, item in enumerate(panels):
        item["id"] = index + 1
        item["gridPos"] = {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8}
    return {
        "uid": uid,
        "title": title,
        "tags": ["addon-partner", *tags],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def gateway() -> dict[str, Any]:
    http_latency = "django_http_requests_latency_seconds_by_view_method_bucket"
    return dashboard(
        "addon-partner-gateway",
        "Addon Partner: gateway",
        [
            panel("Gateway up (per instance)", [('up{job="addon-partner"}', "{{instance}}")]),
            panel(
                "Requests per second by route",
                [
                    (
                        f"sum by (view) (rate(django_http_requests_total_by_view_transport_method_total[{RATE}]))",
                        "{{view}}",
                    )
                ],
                unit="reqps",
            ),
            panel(
                "Server errors (5xx) per second by route",
                [
                    (
                        "sum by (view) (rate(django_http_responses_total_by_status_view_method_total"
                        f'{{status=~"5.."}}[{RATE}]))',
                        "{{view}}",
                    )
                ],
                unit="reqps",
            ),
            panel(
                "Latency p95 by route",
                [(f"histogram_quantile(0.95, sum by (view, le) (rate({http_latency}[{RATE}])))", "{{view}}")],
                unit="s",
            ),
            panel(
                "Latency p99 by route",
                [(f"histogram_quantile(0.99, sum by (view, le) (rate({http_latency}[{RATE}])))", "{{view}}")],
                unit="s",
            ),
            panel("Celery queue depth", [("sum by (queue) (addon_celery_queue_length)", "{{queue}}")]),
            panel(
                "Celery task outcomes per second",
                [(f"sum by (task, outcome) (rate(addon_celery_tasks_total[{RATE}]))", "{{task}} {{outcome}}")],
                unit="ops",
            ),
            panel("Outbox lag (oldest unpublished event)", [("max(addon_outbox_lag_seconds)", "lag")], unit="s"),
            panel(
                "Kafka deliveries per second",
                [(f"sum by (outcome) (rate(addon_kafka_deliveries_total[{RATE}]))", "{{outcome}}")],
                unit="ops",
            ),
            panel(
                "Partner webhook deliveries per second",
                [(f"sum by (outcome) (rate(addon_webhook_deliveries_total[{RATE}]))", "{{outcome}}")],
                unit="ops",
            ),
            panel(
                "Transactions per second by status",
                [(f"sum by (status) (rate(addon_transactions_total[{RATE}]))", "{{status}}")],
                unit="ops",
            ),
            panel(
                "Database queries per second",
                [(f"sum by (vendor) (rate(django_db_execute_total[{RATE}]))", "{{vendor}}")],
                unit="ops",
            ),
            panel(
                "Database query latency p95",
                [
                    (
                        "histogram_quantile(0.95, sum by (le) "
                        f"(rate(django_db_query_duration_seconds_bucket[{RATE}])))",
                        "p95",
                    )
                ],
                unit="s",
            ),
            panel(
                "New database connections per second",
                [(f"sum(rate(django_db_new_connections_total[{RATE}]))", "connections")],
                unit="ops",
            ),
            panel(
                "Readiness dependencies read at scrape time",
                [("min by (source) (addon_ops_collector_up)", "{{source}}")],
            ),
        ],
        ["gateway"],
    )


def provider(code: str, name: str) -> dict[str, Any]:
    p = f'provider="{code}"'
    calls = f"addon_provider_call_seconds_bucket{{{p}}}"
    return dashboard(
        f"addon-partner-provider-{code.replace('_', '-')}",
        f"Addon Partner: {name}",
        [
            panel(
                "Success rate (succeeded / outcomes; objective 99 %)",
                [
                    (
                        f'sum(rate(addon_transactions_total{{{p},status="succeeded"}}[{RATE}])) / '
                        f'sum(rate(addon_transactions_total{{{p},status=~"succeeded|failed|unknown"}}[{RATE}]))',
                        "success rate",
                    )
                ],
                unit="percentunit",
            ),
            panel(
                "Transactions per second by status",
                [(f"sum by (status) (rate(addon_transactions_total{{{p}}}[{RATE}]))", "{{status}}")],
                unit="ops",
            ),
            *[
                panel(
                    f"Provider call latency p{q} by operation",
                    [(f"histogram_quantile(0.{q}, sum by (operation, le) (rate({calls}[{RATE}])))", "{{operation}}")],
                    unit="s",
                )
                for q in ("5", "95", "99")
            ],
            panel(
                "Provider calls per second by outcome",
                [
                    (
                        f"sum by (operation, outcome) (rate(addon_provider_call_seconds_count{{{p}}}[{RATE}]))",
                        "{{operation}} {{outcome}}",
                    )
                ],
                unit="ops",
            ),
            panel(
                "Unknown outcomes per second",
                [(f'sum(rate(addon_transactions_total{{{p},status="unknown"}}[{RATE}]))', "unknown")],
                unit="ops",
            ),
            panel("Unknown backlog", [(f"sum(addon_unknown_transactions{{{p}}})", "transactions in unknown")]),
            panel(
                "Oldest unknown transaction (age)", [(f"max(addon_unknown_oldest_age_seconds{{{p}}})", "age")], unit="s"
            ),
            panel(
                "Callback delay (acceptance to callback)",
                [(f"max by (quantile) (addon_callback_delay_seconds{{{p}}})", "p{{quantile}}")],
                unit="s",
            ),
            panel(
                "Float balance (minor units)",
                [(f"max by (mode, currency) (addon_provider_float_minor{{{p}}})", "{{mode}} {{currency}}")],
            ),
        ],
        ["provider", code],
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    boards = {"gateway": gateway(), **{f"provider-{code}": provider(code, name) for code, name in PROVIDERS.items()}}
    for name, board in boards.items():
        (OUT / f"{name}.json").write_text(json.dumps(board, indent=2) + "\n")


if __name__ == "__main__":
    main()
