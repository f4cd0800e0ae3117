"""Rotate a partner's signing secret: add a new one (the previous stays active until
``--finish``), or end the rotation by revoking every secret but the newest.

    manage.py rotate_partner_secret --partner acme-pay --mode live --json
    manage.py rotate_partner_secret --partner acme-pay --mode live --finish
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import GatewayError
from partners.models import Mode
from partners.selectors import partner_get, signing_secret_list_active
from partners.services import signing_secret_revoke_previous, signing_secret_rotate


class Command(BaseCommand):
    help = "Add a new signing secret for a partner and mode (printed once), or --finish a rotation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", required=True, help="public id (ptn_…) or code")
        parser.add_argument("--mode", required=True, choices=Mode.values)
        parser.add_argument("--finish", action="store_true", help="revoke all active secrets but the newest")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner = partner_get(identifier=options["partner"])
            mode = options["mode"]
            if options["finish"]:
                revoked = signing_secret_revoke_previous(partner=partner, mode=mode)
                data: dict[str, Any] = {"partner_id": partner.public_id, "mode": mode, "revoked": revoked}
            else:
                issued = signing_secret_rotate(partner=partner, mode=mode)
                data = {"partner_id": partner.public_id, "mode": mode, "signing_secret": issued.secret}
        except GatewayError as exc:
            raise CommandError(exc.detail) from exc
        data["active_secrets"] = signing_secret_list_active(partner=partner, mode=mode).count()
        if options["json"]:
            self.stdout.write(json.dumps(data))
        elif options["finish"]:
            self.stdout.write(f"{data['revoked']} previous secret(s) revoked; {data['active_secrets']} active.")
        else:
            self.stdout.write(f"New {mode} signing secret for {partner.code}: {data['signing_secret']}")
            self.stdout.write(
                f"{data['active_secrets']} secrets are active. Once the partner signs with the new one, run "
                "again with --finish."
            )
