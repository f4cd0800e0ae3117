"""Partner webhook URLs: refuse addresses inside the bank (docs/architecture.md §9, SSRF).

A webhook URL is refused when its host is, or resolves to, a private, loopback, link-local
(cloud metadata 169.254.169.254 included), shared, multicast, unspecified or reserved address.
Exceptions, in this order:

- hosts listed in ``settings.WEBHOOK_ALLOWED_HOSTS`` are accepted as they are (sandbox, an
  internal relay the bank vouches for);
- loopback is accepted for test-mode partners while ``settings.SANDBOX_ENABLED`` (forced off
  in production), so a developer can receive webhooks on their machine.

``http`` is accepted for test mode only. IPv6 forms that embed an IPv4 address (mapped
``::ffff:a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``) are judged by that address.

Delivery resolves and checks again right before each attempt (DNS answers change), through
``webhook_target``: the host name is resolved once, every address it gave is checked, and the
connection is made to the checked address (pinned, the host name kept for ``Host``, TLS SNI
and the certificate check), so a DNS answer that changes between the check and the connection
(rebinding) cannot reach inside. Redirects are never followed (``core/http.py``).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
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


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, NAT64), else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _address_problem(address: IPAddress, *, loopback_allowed: bool) -> str | None:
    address = _embedded_ipv4(address)
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


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL checked for one delivery attempt: connect to ``address``, speak to ``host``."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress  # the first checked address: the connection goes there and nowhere else

    @property
    def pinned_origin(self) -> str:
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}/"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def validate_webhook_url(url: str, mode: str) -> str:
    """Return ``url`` when the gateway may POST to it for a partner in ``mode``; raise
    ``WebhookUrlRefused`` (400 ``validation_error`` on field ``webhook_url``) otherwise."""
    return _checked(url, mode, resolve_allowed=False)[0]


def webhook_target(url: str, mode: str) -> WebhookTarget:
    """Check ``url`` as ``validate_webhook_url`` does, resolving its host once, and answer the
    address to connect to (``WebhookUrlRefused`` when any address it resolves to is refused)."""
    _, target = _checked(url, mode, resolve_allowed=True)
    assert target is not None
    return target


def _checked(url: str, mode: str, *, resolve_allowed: bool) -> tuple[str, WebhookTarget | None]:
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
    port = port or (443 if parts.scheme == "https" else 80)
    allowed_host = host in {h.lower().rstrip(".") for h in settings.WEBHOOK_ALLOWED_HOSTS}
    if allowed_host and not resolve_allowed:
        return url, None
    # loopback only for test partners, on a machine that switched it on (never in production)
    loopback_allowed = mode == Mode.TEST and bool(settings.SANDBOX_ENABLED) and bool(settings.WEBHOOK_ALLOW_LOOPBACK)
    addresses = _resolve(host, port)
    if not addresses:
        raise _refuse(f"the host {host!r} cannot be resolved")
    for address in addresses if not allowed_host else ():
        problem = _address_problem(address, loopback_allowed=loopback_allowed)
        if problem:
            raise _refuse(f"{host} is {problem}" if str(address) == host else f"{host} resolves to {problem}")
    return url, WebhookTarget(url=url, scheme=parts.scheme, host=host, port=port, address=addresses[0])
