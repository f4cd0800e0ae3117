"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS (key rotation).

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS and keep the old one after it,
deploy, run this command, then remove the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.crypto import DecryptionError
from partners.services import reencrypt_all


class Command(BaseCommand):
    help = "Re-encrypt signing secrets and provider credentials with the newest field encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = reencrypt_all()
        except DecryptionError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
