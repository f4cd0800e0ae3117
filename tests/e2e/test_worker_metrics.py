"""What a worker tells its people (issue 16, item 5), across real processes: a cash-in created over
HTTP is paid by a Celery worker subprocess; ``/metrics`` of a gunicorn sharing the worker's
``PROMETHEUS_MULTIPROC_DIR`` shows ``addon_transactions_total`` moved by the worker (the test
process, which served the API, writes nothing to that directory: whatever moved there, the worker
moved), and the worker's JSON log line about the change carries the public id in ``transaction``."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledger.models import Transaction
from tests.mobilemoney.api_support import cash_in_body, connect_providers, make_partner
from tests.processes import celery_worker, gunicorn, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def transactions_total(base: str, status: str) -> float:
    """``addon_transactions_total{kind="cash_in",provider="wave",status}`` as /metrics serves it."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            wanted = {"kind": "cash_in", "provider": "wave", "status": status}
            if sample.name == "addon_transactions_total" and sample.labels == wanted:
                return float(sample.value)
    return 0.0


def json_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        if raw.strip().startswith("{"):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    return lines


def test_a_cash_in_paid_by_a_worker_moves_the_metric_and_its_log_line_names_the_transaction(
    live_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    connect_providers(live_server.url)
    side = make_partner(live_server.url)
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    (tmp_path / "prom").mkdir()
    log = tmp_path / "worker.log"
    with gunicorn(workers=1, env=shared) as (base, _), celery_worker(log, queues="payments", concurrency=1, env=shared):
        before = transactions_total(base, "succeeded")
        answer = side.client.post("/api/v1/mobile-money/cash-ins", json=cash_in_body("wave"), idempotency_key="m-1")
        assert answer.status == 202, answer.body
        txn_id = answer.body["id"]
        wait_until(
            lambda: Transaction.objects.get(public_id=txn_id).status == "succeeded",
            timeout=30,
            message="the worker did not pay the cash-in:\n" + log.read_text()[-2000:],
        )
        wait_until(lambda: transactions_total(base, "succeeded") == before + 1, timeout=10, message="not counted")
        assert transactions_total(base, "processing") >= 1  # the worker's claim, counted too

    about = [line for line in json_lines(log) if line.get("transaction") == txn_id]
    assert any(line["logger"] == "ledger.transactions" and "-> succeeded" in line["message"] for line in about), about
