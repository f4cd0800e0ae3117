"""Provider float balances into gauges, for the dashboards and the low-float alert.

The float is asked of each provider (``ledger.balances``, the sources the rails register), which is
a network call: a beat task does it once a minute in a worker, never the scrape itself.
"""

from __future__ import annotations

import time

from core.metrics import provider_float_minor, provider_float_refreshed_timestamp_seconds
from ledger.balances import provider_floats
from partners.models import Mode


def provider_floats_refresh(*, modes: tuple[str, ...] = tuple(Mode.values)) -> int:
    """Set ``addon_provider_float_minor`` for every float that could be read; returns how many.

    A provider that does not answer keeps its last value and its refresh timestamp ages, which
    the dashboard shows; an unavailable source never raises (``provider_floats`` reports it).
    """
    refreshed = 0
    for mode in modes:
        for balance in provider_floats(mode=mode):
            if balance.money is None:
                continue
            provider_float_minor.labels(balance.provider, mode, balance.money.currency).set(balance.money.minor)
            provider_float_refreshed_timestamp_seconds.labels(balance.provider, mode).set(time.time())
            refreshed += 1
    return refreshed
