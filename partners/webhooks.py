"""Partner webhook URLs: refuse addresses inside the bank (docs/architecture.md §9, SSRF).

A webhook URL is refused when its host is, or resolves to, a private, loopback, link-local
(cloud metadata 169.254.169.254 included), shared, multicast, unspecified or reserved address.
Exceptions, in this order:

- hosts listed in ``settings.WEBHOOK_ALLOWED_HOSTS`` are accepted as they are (sandbox, an
  internal relay the bank vouches for);
- loopback is accepted for test-mode partners while ``settings.SANDBOX_ENABLED`` (forced off
  in production), so a developer can receive webhooks on their machine.

``http`` is accepted for test mode only. Delivery code should validate again right before
each delivery: DNS answers change.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import FieldError, ValidationFailed
from partners.models import Mode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


class WebhookUrlRefused(ValidationFailed):
    """The webhook URL points somewhere the gateway must not call."""


def _refuse(message: str) -> WebhookUrlRefused:
    return WebhookUrlRefused(f"webhook_url: {message}", errors=[FieldError("webhook_url", message)])


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _refuse(f"the host {host!r} cannot be resolved") from exc
    # sockaddr[0] is the address; IPv6 may carry a %scope suffix.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _address_problem(address: IPAddress, *, loopback_allowed: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return "a reserved address"
    if address.is_loopback:
        return None if loopback_allowed else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def validate_webhook_url(url: str, mode: str) -> str:
    """Return ``url`` when the gateway may POST to it for a partner in ``mode``; raise
    ``WebhookUrlRefused`` (400 ``validation_error`` on field ``webhook_url``) otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse("not a valid URL") from exc
    allowed_schemes = ("https", "http") if mode == Mode.TEST else ("https",)
    if parts.scheme not in allowed_schemes:
        raise _refuse("must use " + (" or ".join(allowed_schemes)) + f" in {mode} mode")
    if parts.username is not None or parts.password is not None:
        raise _refuse("must not carry credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refuse("has no host")
    if host in {h.lower().rstrip(".") for h in settings.WEBHOOK_ALLOWED_HOSTS}:
        return url
    loopback_allowed = mode == Mode.TEST and bool(settings.SANDBOX_ENABLED)
    for address in _resolve(host, port or (443 if parts.scheme == "https" else 80)):
        problem = _address_problem(address, loopback_allowed=loopback_allowed)
        if problem:
            raise _refuse(f"{host} is {problem}" if str(address) == host else f"{host} resolves to {problem}")
    return url
