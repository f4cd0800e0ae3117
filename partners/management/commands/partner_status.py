"""Suspend a partner (every API request refused) or reactivate it; revoke a test API key.

manage.py partner_status --partner acme-pay --suspend
manage.py partner_status --partner acme-pay --reactivate
manage.py partner_status --revoke-key 42      (test keys; live keys: manage.py four_eyes request)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import GatewayError
from partners.models import ApiCredential, Mode
from partners.selectors import partner_get
from partners.services import api_credential_revoke, partner_reactivate, partner_suspend


class Command(BaseCommand):
    help = "Suspend or reactivate a partner, or revoke a test API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="public id (ptn_…) or code")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--suspend", action="store_true")
        action.add_argument("--reactivate", action="store_true")
        action.add_argument("--revoke-key", type=int, metavar="CREDENTIAL_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["revoke_key"] is not None:
            credential = ApiCredential.objects.filter(pk=options["revoke_key"]).first()
            if credential is None:
                raise CommandError(f"No API credential {options['revoke_key']}.")
            if credential.mode == Mode.LIVE:
                raise CommandError("Live keys are revoked through four-eyes: manage.py four_eyes request revoke_key …")
            api_credential_revoke(credential=credential)
            self.stdout.write(f"{credential.key_prefix}… revoked")
            return
        try:
            partner = partner_get(identifier=options["partner"] or "")
        except GatewayError as exc:
            raise CommandError(exc.detail) from exc
        changed = partner_suspend(partner=partner) if options["suspend"] else partner_reactivate(partner=partner)
        self.stdout.write(f"{changed.code}: {changed.status}")
