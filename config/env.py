"""The only reader of the process environment.

Every setting the gateway takes from the outside is declared here, parsed into a type, and
refused loudly (``ImproperlyConfigured``) when it is missing or malformed. A secret may be
given as ``NAME_FILE`` (a path whose content is the value), the way container orchestrators
mount secrets. Nothing else in the code base reads ``os.environ``.

In development, variables the process environment does not set are taken from the checkout's
own settings file, ``.demo/checkout.env`` (``KEY=value`` lines, written once by
``scripts/checkout_env.sh`` when ``make run`` first runs): each checkout on a machine has its own
database and Redis database, so two checkouts never share, reset or rotate each other's demo.
Tests and production never read it.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

ENVIRONMENTS = ("development", "test", "production")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Variable:
    """One documented environment variable (rendered into the README table)."""

    name: str
    default: str | None
    description: str
    secret: bool = False


REGISTRY: dict[str, Variable] = {}

CHECKOUT_ENV_FILE = Path(__file__).resolve().parent.parent / ".demo" / "checkout.env"


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (blank lines and ``#`` comments skipped); {} when the file is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ImproperlyConfigured(f"{path} cannot be read: {exc}") from exc
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ImproperlyConfigured(f"{path}:{number}: expected NAME=value")
        values[name.strip()] = value.strip()
    return values


def default_source(
    environ: Mapping[str, str] = os.environ, checkout_file: Path = CHECKOUT_ENV_FILE
) -> Mapping[str, str]:
    """The process environment, over the checkout's settings file in development only."""
    if environ.get("DJANGO_ENV", "development") != "development":
        return environ
    return ChainMap(dict(environ), read_env_file(checkout_file))


@dataclass
class Env:
    """Typed access to a mapping of environment variables (``os.environ`` by default)."""

    source: Mapping[str, str] = field(default_factory=default_source)

    def _raw(self, name: str, *, secret: bool) -> str | None:
        if secret:
            path = self.source.get(f"{name}_FILE")
            if path:
                try:
                    return Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
        return self.source.get(name)

    def _get(
        self,
        name: str,
        parse: Callable[[str], T],
        *,
        default: str | None,
        description: str,
        secret: bool = False,
        required: bool = False,
    ) -> T:
        REGISTRY.setdefault(name, Variable(name, default, description, secret))
        raw = self._raw(name, secret=secret)
        if raw is None:
            if required or default is None:
                raise ImproperlyConfigured(f"Environment variable {name} is required ({description}).")
            raw = default
        try:
            return parse(raw)
        except (ValueError, TypeError) as exc:
            shown = "<secret>" if secret else repr(raw)
            raise ImproperlyConfigured(f"Environment variable {name}={shown} is malformed: {exc}") from exc

    def string(
        self, name: str, default: str | None = None, *, description: str, secret: bool = False, required: bool = False
    ) -> str:
        return self._get(name, str, default=default, description=description, secret=secret, required=required)

    def boolean(self, name: str, default: str | None = None, *, description: str) -> bool:
        return self._get(name, parse_bool, default=default, description=description)

    def integer(self, name: str, default: str | None = None, *, description: str) -> int:
        return self._get(name, int, default=default, description=description)

    def number(self, name: str, default: str | None = None, *, description: str) -> float:
        return self._get(name, float, default=default, description=description)

    def strings(
        self, name: str, default: str | None = None, *, description: str, secret: bool = False, required: bool = False
    ) -> list[str]:
        return self._get(name, parse_list, default=default, description=description, secret=secret, required=required)

    def choice(self, name: str, choices: tuple[str, ...], default: str, *, description: str) -> str:
        def parse(raw: str) -> str:
            if raw not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}")
            return raw

        return self._get(name, parse, default=default, description=description)

    def url(self, name: str, default: str | None = None, *, description: str, schemes: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            parts = urlsplit(raw)
            if parts.scheme not in schemes:
                raise ValueError(f"scheme must be one of {', '.join(schemes)}")
            return raw

        return self._get(name, parse, default=default, description=description, secret=False)


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected a boolean (true/false, 1/0, yes/no, on/off)")


def parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Turn ``postgres://user:pass@host:port/name`` into a Django DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL (the ledger needs PostgreSQL).")
    name = parts.path.lstrip("/")
    if not name:
        raise ImproperlyConfigured("DATABASE_URL has no database name.")
    return {
        "ENGINE": "core.postgresql",  # django-prometheus's, with a health check without a round trip
        "NAME": name,
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5},
    }
