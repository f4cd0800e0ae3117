"""Per-partner rate limit, shared by every process through Redis (docs/architecture.md §9)."""

from __future__ import annotations

import math
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from partners.auth import PartnerAuth, rate_key
from partners.guards import rate_limit_hit


class PartnerRateThrottle(BaseThrottle):
    """At most ``Partner.rate_limit_per_minute`` requests in any 60 s, over both modes.

    A signed request was counted with its replay claim (one Redis round trip, in
    ``partners.auth``); an unsigned one is counted here. Over the limit DRF raises
    ``Throttled``; the problem handler answers 429 ``rate_limited`` with ``Retry-After`` (whole
    seconds until a request leaves the window).
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        auth = request.auth
        if not isinstance(auth, PartnerAuth):
            return True  # only partner requests are limited here; authentication ran before
        partner = auth.partner
        decision = auth.rate or rate_limit_hit(key=rate_key(partner), limit=partner.rate_limit_per_minute)
        if decision.allowed:
            return True
        self._wait = float(max(1, math.ceil(decision.retry_after_seconds)))
        return False

    def wait(self) -> float | None:
        return self._wait
