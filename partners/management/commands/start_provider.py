"""Scaffold a provider with its own API (docs/adding-a-provider.md, path 3).

manage.py start_provider NAME --rail mobile_money [--root DIR]

writes ``mobilemoney/providers/NAME.py`` (the connector: every operation "not supported" until
its TODO is done), ``sandbox/NAME/`` (the simulator's skeleton, found by sandbox/simulators.py),
its page in ``docs/providers/`` and NAME's line in ``mobilemoney/providers/installed.py``, which is also
its registration in the conformance suite. A bad or taken name writes nothing.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from string import Template
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.registry import is_registered

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
INSTALLED = Path("mobilemoney/providers/installed.py")
LAST_MODULE_RE = re.compile(r'(CONNECTOR_MODULES = \((?:\n    "[a-z0-9_.]+",)*)')

CONNECTOR = Template('''"""$title: the connector, scaffolded by manage.py start_provider.

Its page: docs/providers/$name.md.
TODO: speak the provider's API here, behind MobileMoneyProvider (mobilemoney/providers/base.py),
through core.http.ProviderHttpClient; until an operation is written it is "not supported".
"""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import ErrorCode, ProviderRejected
from core.money import Money
from mobilemoney.providers.base import (
    CallbackEvent,
    CashInRequest,
    CashInResult,
    CheckoutRequest,
    CheckoutSession,
    MobileMoneyProvider,
    not_supported,
)
from partners.registry import ConnectorSettings, register


@register("$name")
class ${cls}Connector(MobileMoneyProvider):
    """$title (TODO: what its API is, and where its documentation is)."""

    provider_name = "$title"

    def __init__(self, settings: ConnectorSettings) -> None:
        if not settings.credentials.get("api_key"):  # TODO: the credentials the provider gives
            message = f"the {self.provider_name} connection has no api_key"
            raise ProviderRejected(message, code=ErrorCode.PROVIDER_NOT_CONFIGURED)
        self.settings = settings

    def cash_in(self, request: CashInRequest) -> CashInResult:
        raise not_supported(self.provider_name, "cash-in")  # TODO: with our reference as idempotency key

    def cash_in_status(self, reference: str, provider_reference: str | None = None) -> CashInResult | None:
        raise not_supported(self.provider_name, "cash-in status")  # TODO

    def checkout_create(self, request: CheckoutRequest) -> CheckoutSession:
        raise not_supported(self.provider_name, "checkout")  # TODO

    def checkout_get(self, provider_session_id: str) -> CheckoutSession:
        raise not_supported(self.provider_name, "checkout")  # TODO

    def checkout_search(self, reference: str) -> list[CheckoutSession]:
        raise not_supported(self.provider_name, "checkout")  # TODO

    def balance(self) -> Money:
        raise not_supported(self.provider_name, "balance")  # TODO

    def verify_callback(self, headers: Mapping[str, str], raw_body: bytes, now: float) -> bool:
        return False  # TODO: check the provider's signature; until then no callback is accepted

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> list[CallbackEvent]:
        raise ValueError("TODO: read the provider's callbacks")
''')

SIMULATOR = Template('''"""$title: the simulator, found by sandbox/simulators.py.

It is mounted at /sandbox/$prefix.
TODO: its endpoints in its urls.py, speaking the provider's wire format, outcomes chosen by the
number's last digits (sandbox.services.outcome_for, docs/architecture.md §6).
"""

from sandbox.services import account_register
from sandbox.simulators import Simulator


def open_account(callback_url: str) -> dict[str, str]:
    account = account_register(provider="$name", callback_url=callback_url)
    # TODO: the credentials the connector needs
    return {"api_key": account.api_key, "webhook_secret": account.webhook_secret}


SIMULATOR = Simulator("$name", "$prefix", "sandbox.$name.urls", open_account)
''')

URLS = Template('''"""$title: the simulator's endpoints (TODO: one per operation of the connector)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
''')

DOCS = Template("""# $title — what our connector implements

Connector: `mobilemoney/providers/$name.py`, registered as `$name`. Simulator: `sandbox/$name/`.
Conformance: `tests/conformance/test_mobilemoney.py`.

TODO: where $title's API documentation is, its credentials, wire conventions, errors and retries,
callbacks and their signature, and every choice we made where the documentation is silent.
""")


class Command(BaseCommand):
    help = "Scaffold a provider with its own API: connector, simulator skeleton, docs page, registry line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the connector's name, e.g. free_money (lower case, digits, _)")
        parser.add_argument("--rail", required=True, choices=["mobile_money"])
        parser.add_argument("--title", default="", help="the provider's name in words (default: from NAME)")
        parser.add_argument("--root", default="", help="the checkout to write into (default: this one)")

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        root = Path(options["root"] or settings.BASE_DIR)
        title = options["title"] or name.replace("_", " ").title()
        if len(title) > 40 or not title.isprintable() or '"' in title or "\\" in title:
            raise CommandError("--title: at most 40 printable characters, no quote or backslash")
        if not NAME_RE.match(name) or keyword.iskeyword(name):
            raise CommandError(f"{name!r} is not a connector name: 2-31 of a-z, 0-9 and _, starting with a letter")
        installed = root / INSTALLED
        if not installed.is_file():
            raise CommandError(f"{installed} not found: --root must be a checkout of this repository")
        files = self._files(name, title)
        taken = [str(path) for path in files if (root / path).exists()]
        if is_registered(name) or taken or f'"mobilemoney.providers.{name}"' in installed.read_text():
            raise CommandError(f"a provider named {name!r} exists already {taken or ''}".rstrip())
        registry = installed.read_text(encoding="utf-8")
        if not LAST_MODULE_RE.search(registry):
            raise CommandError(f"{installed}: CONNECTOR_MODULES not found")
        for path, content in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(content, encoding="utf-8")
        line = f'\\1\n    "mobilemoney.providers.{name}",'
        installed.write_text(LAST_MODULE_RE.sub(line, registry, count=1), encoding="utf-8")
        for path in [*files, INSTALLED]:
            self.stdout.write(f"wrote {path}")
        self.stdout.write(f"next: the TODOs, then the conformance suite: pytest tests/conformance -k {name}")

    def _files(self, name: str, title: str) -> dict[Path, str]:
        values = {
            "name": name,
            "title": title,
            "cls": name.title().replace("_", ""),
            "prefix": name.replace("_", "-") + "/",
        }
        return {
            Path(f"mobilemoney/providers/{name}.py"): CONNECTOR.substitute(values),
            Path(f"sandbox/{name}/__init__.py"): "",
            Path(f"sandbox/{name}/simulator.py"): SIMULATOR.substitute(values),
            Path(f"sandbox/{name}/urls.py"): URLS.substitute(values),
            Path(f"docs/providers/{name}.md"): DOCS.substitute(values),
        }
