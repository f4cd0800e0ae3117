"""Onboard a partner from the command line; its credentials are printed once (docs/architecture.md §4).

manage.py create_partner --name "Acme Pay" --mode test --scopes all --json
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import GatewayError
from partners.models import ALL_SCOPES, Mode
from partners.services import partner_create


def parse_scopes(raw: str) -> list[str]:
    if raw.strip() == "all":
        return list(ALL_SCOPES)
    return [scope.strip() for scope in raw.split(",") if scope.strip()]


class Command(BaseCommand):
    help = "Create a partner with an API key and a signing secret (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--mode", required=True, choices=Mode.values)
        parser.add_argument("--scopes", required=True, help="comma-separated scopes, or 'all'")
        parser.add_argument("--webhook-url", default="")
        parser.add_argument("--ip-allowlist", default="", help="comma-separated CIDRs (default: any address)")
        parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute")
        parser.add_argument("--json", action="store_true", help="print the credentials as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = partner_create(
                name=options["name"],
                mode=options["mode"],
                scopes=parse_scopes(options["scopes"]),
                webhook_url=options["webhook_url"],
                ip_allowlist=[cidr for cidr in options["ip_allowlist"].split(",") if cidr.strip()],
                rate_limit_per_minute=options["rate_limit"],
            )
        except GatewayError as exc:
            raise CommandError(exc.detail) from exc
        data = {
            "partner_id": created.partner.public_id,
            "api_key": created.api_key,
            "signing_secret": created.signing_secret,
            "mode": created.mode,
            "scopes": created.partner.scopes,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"Partner {created.partner.name} ({created.partner.code}) created: {data['partner_id']}")
        self.stdout.write(f"  mode:           {data['mode']}")
        self.stdout.write(f"  scopes:         {', '.join(data['scopes']) or '(none)'}")
        self.stdout.write(f"  api key:        {data['api_key']}")
        self.stdout.write(f"  signing secret: {data['signing_secret']}")
        self.stdout.write("Store both now: they are not shown again (only their hash / ciphertext is kept).")
