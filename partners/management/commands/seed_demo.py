"""Seed a demo: a staff user with a generated password, written to .demo/credentials.json.

Idempotent: run it twice and the second run keeps what the first created (the password of an
existing user is only reset when the credentials file has lost it).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_DIR = Path(settings.BASE_DIR) / ".demo"
CREDENTIALS_FILE = DEMO_DIR / "credentials.json"


def load_credentials() -> dict[str, Any]:
    try:
        return json.loads(CREDENTIALS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def write_credentials(data: dict[str, Any]) -> None:
    DEMO_DIR.mkdir(mode=0o700, exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(data, indent=2) + "\n")
    CREDENTIALS_FILE.chmod(0o600)


class Command(BaseCommand):
    help = "Create (once) the demo staff user and test-mode data; credentials go to .demo/credentials.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default=None, help="where the demo gateway listens")

    def handle(self, *args: Any, **options: Any) -> None:
        data = load_credentials()
        data["base_url"] = options["base_url"] or settings.PUBLIC_BASE_URL
        data["staff"] = self._staff_user(data.get("staff") or {})
        write_credentials(data)
        self.stdout.write(f"demo staff user: {data['staff']['username']} (credentials in {CREDENTIALS_FILE})")

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
