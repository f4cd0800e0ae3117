"""P7, provider callbacks ingested per second: signed Wave events (``Wave-Signature``, each its own
event id) posted to ``/callbacks/wave`` by the load generator, each stored raw, verified against
the connection's webhook secret, de-duplicated and queued for a worker, answered 200; against
P1's accepted cash-ins per second, measured in the same run (or measured here when P1 was not
asked for). Goal >= 1.0x: a provider's burst of callbacks must not be slower than the cash-ins
that caused them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.bench_http import CONNECTIONS, P1_SECONDS, _checked, _p1_max, _warm
from bench.common import WAVE_WEBHOOK_SECRET, bench_partner, gateway, host_of
from bench.loadgen import RequestFactory, closed_loop, http_request

CALLBACKS = "/callbacks/wave"


def wave_event_factory(base_url: str, tag: str) -> RequestFactory:
    """A payment-succeeded checkout event per request, signed as the Wave simulator signs."""
    from sandbox.wave.events import signature_header

    host = host_of(base_url)

    def factory(i: int) -> bytes:
        event = {"id": f"EV_{tag}{i}", "type": "checkout.session.completed",
                 "data": {"id": f"cos-{tag}-{i}", "amount": "1500", "currency": "XOF", "checkout_status": "complete",
                          "payment_status": "succeeded", "client_reference": f"{tag}-{i}"}}  # fmt: skip
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Wave-Signature": signature_header(WAVE_WEBHOOK_SECRET, body)}
        return http_request("POST", CALLBACKS, headers, body, host=host)

    return factory


def p7_callbacks(results: dict[str, Any]) -> dict[str, Any]:
    from mobilemoney.models import InboundCallback

    with gateway() as (base, _):
        tag = f"p7{time.time_ns()}"
        _warm(base, wave_event_factory(base, f"{tag}w"))
        reference = _p1_max(results, base, bench_partner("Bench P7"))
        events = wave_event_factory(base, f"{tag}E")
        run = _checked(closed_loop(base, events, connections=CONNECTIONS, seconds=P1_SECONDS), 200, "callbacks")
        stored = InboundCallback.objects.filter(event_id__startswith=f"EV_{tag}E").count()
    if stored != run.statuses.get(200, 0):
        # every answered event must be stored as an event: otherwise the path measured is not the real one
        raise RuntimeError(f"{stored} events stored for {run.statuses.get(200, 0)} answered")
    ratio = run.rate() / reference
    return {
        "value": round(run.rate(), 1),
        "unit": "callbacks/s",
        "reference": round(reference, 1),
        "reference_name": "P1 cash-ins accepted/s",
        "ratio": round(ratio, 3),
        "goal": ">= 1.0",
        "met": ratio >= 1.0,
        "load": run.summary(200),
    }


FIGURES = {"P7": p7_callbacks}
