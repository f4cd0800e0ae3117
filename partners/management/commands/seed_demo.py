"""Seed a demo: a staff user with a generated password and a test-mode partner with every
scope, their credentials written to .demo/credentials.json.

Idempotent: run it twice and the second run keeps what the first created (a password, API key
or signing secret is only replaced when the credentials file has lost it or it no longer works).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from partners.demo import DemoContext, run_seeders
from partners.models import ALL_SCOPES, Mode, Partner
from partners.selectors import api_credential_get_by_key, signing_secret_values_active
from partners.services import (
    api_credential_issue,
    partner_create,
    partner_update,
    signing_secret_revoke_previous,
    signing_secret_rotate,
)

DEMO_PARTNER_CODE = "demo-partner"
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
        data["base_url"] = options["base_url"] or settings.PUBLIC_BASE_URL
        data["staff"] = self._staff_user(data.get("staff") or {})
        data["partner"] = self._demo_partner(data.get("partner") or {})
        context = DemoContext(base_url=data["base_url"], known_secrets=dict(data.get("sandbox_secrets") or {}))
        data["providers"] = {k: v for k, v in run_seeders(context).items() if v}
        data["sandbox_secrets"] = context.known_secrets
        write_credentials(data, path)
        self.stdout.write(f"demo staff user: {data['staff']['username']} (credentials in {path})")
        self.stdout.write(f"demo partner: {data['partner']['partner_id']} (test mode, API key in {path})")

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

    def _demo_partner(self, known: dict[str, Any]) -> dict[str, Any]:
        partner = Partner.objects.filter(code=DEMO_PARTNER_CODE).first()
        if partner is None:
            created = partner_create(name="Demo Partner", code=DEMO_PARTNER_CODE, mode=Mode.TEST, scopes=ALL_SCOPES)
            partner, api_key, secret = created.partner, created.api_key, created.signing_secret
        else:
            partner = partner_update(partner=partner, scopes=ALL_SCOPES)
            api_key, secret = known.get("api_key", ""), known.get("signing_secret", "")
            credential = api_credential_get_by_key(api_key=api_key) if api_key else None
            if credential is None or not credential.is_active or credential.partner_id != partner.pk:
                api_key = api_credential_issue(partner=partner, mode=Mode.TEST, label="demo").api_key
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
