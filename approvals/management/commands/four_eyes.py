"""Four-eyes requests from the command line (the same services as the console):

    manage.py four_eyes request ACTION TARGET --as USER --reason WHY [--set name=value …]
    manage.py four_eyes approve ID --as USER [--note …]
    manage.py four_eyes reject ID --as USER [--note …]
    manage.py four_eyes list [--status pending]
    manage.py four_eyes expire

ACTION is one of approvals.models.Action (force_resolve, reverse, top_up, overdraft,
partner_scopes, partner_limits, rotate_secret, revoke_key); ``--set`` gives the action's values
(``--set outcome=succeeded --set evidence="statement line 42"``; ``scopes`` comma-separated).
A secret made by an approved rotation is printed to its maker by ``four_eyes secret ID --as MAKER``.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.models import Action, ApprovalRequest
from approvals.services import (
    approval_request_approve,
    approval_request_create,
    approval_request_reject,
    approval_requests_expire,
    approval_secret_reveal,
)
from core.errors import GatewayError


def _user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active staff user {username!r}.")
    return user


def _request(pk: int) -> ApprovalRequest:
    approval = ApprovalRequest.objects.filter(pk=pk).first()
    if approval is None:
        raise CommandError(f"No request #{pk}.")
    return approval


class Command(BaseCommand):
    help = "Ask for, approve, reject, list and expire four-eyes requests."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="step", required=True)
        ask = sub.add_parser("request")
        ask.add_argument("action", choices=Action.values)
        ask.add_argument("target")
        ask.add_argument("--as", dest="user", required=True)
        ask.add_argument("--reason", required=True)
        ask.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
        for name in ("approve", "reject", "secret"):
            decide = sub.add_parser(name)
            decide.add_argument("id", type=int)
            decide.add_argument("--as", dest="user", required=True)
            decide.add_argument("--note", default="")
        listing = sub.add_parser("list")
        listing.add_argument("--status", default="pending")
        sub.add_parser("expire")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._run(options)
        except GatewayError as exc:
            raise CommandError(exc.detail) from exc

    def _run(self, options: dict[str, Any]) -> None:
        step = options["step"]
        if step == "list":
            for row in ApprovalRequest.objects.filter(status=options["status"]).select_related("maker"):
                self.stdout.write(
                    f"#{row.pk} {row.action} {row.target} by {row.maker} until {row.expires_at:%Y-%m-%d %H:%M:%S}"
                )
            return
        if step == "expire":
            self.stdout.write(f"{approval_requests_expire()} request(s) expired")
            return
        user = _user(options["user"])
        if step == "request":
            requested = dict(item.split("=", 1) for item in options["set"] if "=" in item)
            created = approval_request_create(
                maker=user,
                action=options["action"],
                target=options["target"],
                requested=requested,
                reason=options["reason"],
            )
            self.stdout.write(f"request #{created.pk} pending: {json.dumps(created.requested_value)}")
            return
        approval = _request(options["id"])
        if step == "secret":
            self.stdout.write(approval_secret_reveal(approval=approval, user=user) or "(no secret to show)")
            return
        decide = approval_request_approve if step == "approve" else approval_request_reject
        done = decide(approval=approval, checker=user, note=options["note"])
        self.stdout.write(f"request #{done.pk} {done.status} {done.failure_message}".rstrip())
