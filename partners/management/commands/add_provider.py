"""Onboard a provider of a kind we already speak: data only (docs/adding-a-provider.md §1).

manage.py add_provider --code wave_ci --name "Wave Côte d'Ivoire" --rail mobile_money \\
    --connector wave --mode live --base-url https://api.wave.example --credentials-file wave_ci.json
manage.py add_provider --code wave_ci --name "Wave Côte d'Ivoire" --rail mobile_money \\
    --connector wave --mode test --sandbox

``--sandbox`` (test mode only) points the provider at its connector's simulator and opens its
simulator account there (no credentials needed); its callbacks come back to
``<gateway URL>/callbacks/<code>``. The provider is usable at once: no code change, no restart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import GatewayError
from partners.models import Mode, Rail
from partners.providers import ProviderSpec, provider_add, provider_spec_check
from sandbox.simulators import simulators


def read_credentials(path: str) -> dict[str, Any]:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"--credentials-file: {exc}") from exc
    if not isinstance(value, dict):
        raise CommandError("--credentials-file must hold one JSON object")
    return value


class Command(BaseCommand):
    help = "Add a provider of a known kind (an existing connector) as data, usable at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True, help="the provider's code, e.g. wave_ci")
        parser.add_argument("--name", required=True)
        parser.add_argument("--rail", required=True, choices=Rail.values)
        parser.add_argument("--connector", required=True, help="a registered connector, e.g. wave")
        parser.add_argument("--mode", required=True, choices=Mode.values)
        parser.add_argument("--base-url", default="")
        parser.add_argument("--credentials-file", default="", help="a JSON object (read, never printed)")
        parser.add_argument("--sandbox", action="store_true", help="test mode: the connector's simulator")
        parser.add_argument("--gateway-url", default=None, help="with --sandbox: where we listen (PUBLIC_BASE_URL)")
        parser.add_argument("--currency", default="XOF")
        parser.add_argument("--limits", default="", help="connector limits as a JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            spec = self._spec(options)
            connection = provider_add(spec)
        except GatewayError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            f"provider {spec.code} ({spec.name}) on {spec.connector}, {spec.mode} mode: "
            f"{connection.base_url} — callbacks at /callbacks/{spec.code}"
        )

    def _spec(self, options: dict[str, Any]) -> ProviderSpec:
        sandbox, base_url, credentials_file = options["sandbox"], options["base_url"], options["credentials_file"]
        if sandbox == bool(base_url or credentials_file):
            raise CommandError("give either --sandbox or --base-url with --credentials-file")
        if sandbox and options["mode"] != Mode.TEST:
            raise CommandError("--sandbox is for test mode only: a live provider needs its own URL and credentials")
        if not sandbox and not (base_url and credentials_file):
            raise CommandError("--base-url and --credentials-file go together")
        limits = json.loads(options["limits"]) if options["limits"] else None
        spec = ProviderSpec(
            code=options["code"],
            name=options["name"],
            rail=options["rail"],
            connector=options["connector"],
            mode=options["mode"],
            base_url=base_url,
            credentials=read_credentials(credentials_file) if credentials_file else {},
            currency=options["currency"],
            limits=limits,
        )
        if not sandbox:
            return spec
        provider_spec_check(spec)  # before an account is opened at the simulator
        simulator = simulators().get(spec.connector)
        if simulator is None:
            raise CommandError(f"no simulator stands for the {spec.connector} connector")
        gateway = (options["gateway_url"] or settings.PUBLIC_BASE_URL).rstrip("/")
        credentials = simulator.open_account(f"{gateway}/callbacks/{spec.code}")
        return ProviderSpec(
            **{**spec.__dict__, "base_url": f"{gateway}/sandbox/{simulator.prefix}", "credentials": credentials}
        )
