"""Issue an API key (and the mode's first signing secret) to an existing partner, printed once.

manage.py issue_credentials --partner acme-pay --mode test --json
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import GatewayError
from partners.models import Mode
from partners.selectors import partner_get
from partners.services import partner_credentials_issue


class Command(BaseCommand):
    help = "Issue an API key (and the first signing secret of the mode) to a partner; shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", required=True, help="public id (ptn_…) or code")
        parser.add_argument("--mode", required=True, choices=Mode.values)
        parser.add_argument("--label", default="command")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner = partner_get(identifier=options["partner"])
            issued = partner_credentials_issue(partner=partner, mode=options["mode"], label=options["label"])
        except GatewayError as exc:
            raise CommandError(exc.detail) from exc
        data = {
            "partner_id": partner.public_id,
            "mode": issued.mode,
            "api_key": issued.key.api_key,
            "signing_secret": issued.secret.secret if issued.secret else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"api key:        {data['api_key']}")
        self.stdout.write(f"signing secret: {data['signing_secret'] or '(unchanged: the current one stays valid)'}")
        self.stdout.write("Store them now: they are not shown again.")
