"""Staff users of each role, made by the back office's own service (docs/staff-security.md §1)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.services import StaffUserCreated, staff_user_create


@pytest.fixture
def make_staff(db: Any) -> Callable[[str], StaffUserCreated]:
    def make(role: str, username: str | None = None) -> StaffUserCreated:
        return staff_user_create(username=username or f"{role}-user", email=f"{role}@bank.example", role=role)

    return make


@pytest.fixture
def signed_in(make_staff: Callable[[str], StaffUserCreated]) -> Callable[[str], Client]:
    """A client whose session belongs to a new staff user of ``role`` (no second factor given yet)."""

    def sign_in(role: str) -> Client:
        client = Client()
        client.force_login(make_staff(role).user)
        return client

    return sign_in


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show (``steps_ahead`` 1: the next one, within tolerance)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"
