"""The client's address, for lockouts and the audit log (docs/staff-security.md §2).

Without a trusted proxy it is the peer's address: a forwarding header is then the client's own
to forge and is never read. With ``TRUSTED_PROXY_HEADER`` set, each of our
``TRUSTED_PROXY_COUNT`` proxies appends the address it saw, so the entry that many places from
the right is the one our outermost proxy saw; entries further left came from the client and are
ignored. django-axes calls this through ``AXES_CLIENT_IP_CALLABLE``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return peer
    forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    count = settings.TRUSTED_PROXY_COUNT
    if len(hops) < count:
        return peer  # not through our proxies: the peer is all we know
    return _address(hops[-count]) or peer


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
