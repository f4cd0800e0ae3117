"""Back-office services: staff users (docs/staff-security.md §1)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from backoffice.audit import audit_record
from core.staff import Role


@dataclass(frozen=True)
class StaffUserCreated:
    """A new staff user and the password generated for it (shown once, never stored in clear)."""

    user: AbstractUser
    password: str
    role: Role


def staff_user_create(*, username: str, email: str, role: str) -> StaffUserCreated:
    """Create an active staff user (not a superuser) in ``role``'s group with a generated password."""
    if role not in [member.value for member in Role]:
        raise ValidationError(f"unknown role {role!r}: expected one of {', '.join(Role)}")
    username = username.strip()
    if not username:
        raise ValidationError("the user name is empty")
    if email:
        validate_email(email)
    user_model = get_user_model()
    password = secrets.token_urlsafe(18)
    with transaction.atomic():
        if user_model.objects.filter(username__iexact=username).exists():
            raise ValidationError(f"a user named {username!r} already exists")
        user = user_model.objects.create_user(username=username, email=email, password=password, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        audit_record(actor=None, action="staff.created", target=f"user:{username}", data={"role": role})
    return StaffUserCreated(user=user, password=password, role=Role(role))
