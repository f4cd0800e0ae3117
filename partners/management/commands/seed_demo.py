"""Seed a demo: a staff user with a generated password and a test-mode partner with every
scope, their credentials written to .demo/credentials.json.

Idempotent: run it twice and the second run keeps what the first created (a password, API key
or signing secret is only replaced when the credentials file has lost it or it no longer works).

It only ever changes a demo it created: the credentials file carries an ``owner`` token and the
demo partner's API keys are labelled ``demo:<owner>``. A database whose demo belongs to another
checkout (another credentials file) is left untouched: no password reset, no secret rotated, no
provider connection repointed. Each checkout has its own database (.demo/checkout.env).

Provider connections are seeded with a read timeout below ``SANDBOX_HANG_SECONDS`` so the
simulators' "times out" outcome (9902) really times out; a hang that would not is refused.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from partners.demo import DemoContext, run_seeders
from partners.models import ALL_SCOPES, ApiCredential, Mode, Partner, ProviderConnection
from partners.selectors import api_credential_get_by_key, signing_secret_values_active
from partners.services import (
    api_credential_issue,
    partner_create,
    partner_update,
    signing_secret_revoke_previous,
    signing_secret_rotate,
)

DEMO_PARTNER_CODE = "demo-partner"
OWNER_LABEL = "demo:"
DEMO_DIR = Path(settings.BASE_DIR) / ".demo"
CREDENTIALS_FILE = DEMO_DIR / "credentials.json"


def load_credentials(path: Path = CREDENTIALS_FILE) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_credentials(data: dict[str, Any], path: Path = CREDENTIALS_FILE) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)


class Command(BaseCommand):
    help = "Create (once) the demo staff user and test-mode data; credentials go to .demo/credentials.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default=None, help="where the demo gateway listens")
        parser.add_argument("--credentials-file", type=Path, default=CREDENTIALS_FILE, help="where to keep them")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["credentials_file"]
        data = load_credentials(path)
        data["owner"] = owner = data.get("owner") or secrets.token_hex(8)
        context = DemoContext(
            base_url=options["base_url"] or settings.PUBLIC_BASE_URL,
            known_secrets=dict(data.get("sandbox_secrets") or {}),
        )
        self._check_hang(context)
        self._check_owner(owner, path)
        data["base_url"] = context.base_url
        data["staff"] = self._staff_user(data.get("staff") or {})
        data["partner"] = self._demo_partner(data.get("partner") or {}, owner)
        data["providers"] = {k: v for k, v in run_seeders(context).items() if v}
        data["sandbox_secrets"] = context.known_secrets
        self._check_read_timeouts(context)
        write_credentials(data, path)
        self.stdout.write(f"demo staff user: {data['staff']['username']} (credentials in {path})")
        self.stdout.write(f"demo partner: {data['partner']['partner_id']} (test mode, API key in {path})")

    @staticmethod
    def _check_hang(context: DemoContext) -> None:
        if context.read_timeout_seconds >= settings.SANDBOX_HANG_SECONDS:
            raise CommandError(
                f"SANDBOX_HANG_SECONDS={settings.SANDBOX_HANG_SECONDS:g} does not outlast the demo connections' "
                f"read timeout ({context.read_timeout_seconds:g} s): the 'times out' outcome (9902) would never "
                "time out. Set SANDBOX_HANG_SECONDS above it."
            )

    @staticmethod
    def _check_read_timeouts(context: DemoContext) -> None:
        """Every connection to this sandbox gives up before the simulators' stall ends."""
        slow = ProviderConnection.objects.filter(
            mode=Mode.TEST,
            base_url__startswith=context.sandbox_url,
            read_timeout_seconds__gte=settings.SANDBOX_HANG_SECONDS,
        )
        names = sorted(slow.values_list("connector", flat=True))
        if names:
            raise CommandError(
                f"Sandbox connections {', '.join(names)} wait longer than SANDBOX_HANG_SECONDS="
                f"{settings.SANDBOX_HANG_SECONDS:g}: their seeder must use DemoContext.read_timeout_seconds."
            )

    @staticmethod
    def _check_owner(owner: str, path: Path) -> None:
        """Refuse to touch a demo another checkout created (its keys carry another owner label)."""
        partner = Partner.objects.filter(code=DEMO_PARTNER_CODE).first()
        if partner is None:
            return
        labels = set(
            ApiCredential.objects.filter(
                partner=partner, mode=Mode.TEST, revoked_at__isnull=True, label__startswith=OWNER_LABEL
            ).values_list("label", flat=True)
        )
        if labels and OWNER_LABEL + owner not in labels:
            database = settings.DATABASES["default"]["NAME"]
            raise CommandError(
                f"The demo in database {database} was created by another checkout (not by {path}); nothing "
                "was changed. Give this checkout its own database (.demo/checkout.env, or DATABASE_URL), "
                "or reset this database's demo with `make reset-demo`."
            )

    def _staff_user(self, known: dict[str, str]) -> dict[str, str]:
        user_model = get_user_model()
        username = "demo-admin"
        user = user_model.objects.filter(username=username).first()
        password = known.get("password")
        if user is None or not password or not user.check_password(password):
            password = secrets.token_urlsafe(18)
            if user is None:
                user = user_model.objects.create_superuser(username=username, email="", password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
        return {"username": username, "password": password, "login_url": "/admin/login/"}

    def _demo_partner(self, known: dict[str, Any], owner: str) -> dict[str, Any]:
        partner = Partner.objects.filter(code=DEMO_PARTNER_CODE).first()
        label = OWNER_LABEL + owner
        if partner is None:
            created = partner_create(name="Demo Partner", code=DEMO_PARTNER_CODE, mode=Mode.TEST, scopes=ALL_SCOPES)
            partner, api_key, secret = created.partner, created.api_key, created.signing_secret
            ApiCredential.objects.filter(pk=created.credential.pk).update(label=label)  # whose demo this is
        else:
            partner = partner_update(partner=partner, scopes=ALL_SCOPES)
            api_key, secret = known.get("api_key", ""), known.get("signing_secret", "")
            credential = api_credential_get_by_key(api_key=api_key) if api_key else None
            if credential is None or not credential.is_active or credential.partner_id != partner.pk:
                api_key = api_credential_issue(partner=partner, mode=Mode.TEST, label=label).api_key
            elif credential.label != label:  # a demo seeded before owners were recorded: adopt it
                ApiCredential.objects.filter(pk=credential.pk).update(label=label)
            if secret not in signing_secret_values_active(partner_id=partner.pk, mode=Mode.TEST):
                secret = signing_secret_rotate(partner=partner, mode=Mode.TEST).secret
                signing_secret_revoke_previous(partner=partner, mode=Mode.TEST)
        return {
            "partner_id": partner.public_id,
            "api_key": api_key,
            "signing_secret": secret,
            "mode": Mode.TEST.value,
            "scopes": partner.scopes,
        }
