"""Create a staff user with a role; the generated password is printed once (docs/staff-security.md §1).

manage.py create_staff_user --username awa --email awa@bank.sn --role supervisor [--json]
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.services import staff_user_create
from core.staff import Role


class Command(BaseCommand):
    help = "Create a staff user in a role (operator, supervisor, auditor, admin) with a generated password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--role", required=True, help=f"one of {', '.join(Role)}")
        parser.add_argument("--json", action="store_true", help='print {"username", "password", "role"}')

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = staff_user_create(username=options["username"], email=options["email"], role=options["role"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        username = created.user.get_username()
        if options["json"]:
            self.stdout.write(json.dumps({"username": username, "password": created.password, "role": created.role}))
            return
        self.stdout.write(f"staff user {username} created with role {created.role}")
        self.stdout.write(f"password (shown once): {created.password}")
