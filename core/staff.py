"""Staff roles and what they may see: role names, the personal-data permission, masking.

Kept in core (no models) so every app's admin can mask without importing the back office;
the roles' groups and permissions are created by the back office's migrations.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A staff role is a Django group of the same name."""

    OPERATOR = "operator"  # sees and searches, makes requests
    SUPERVISOR = "supervisor"  # approves and rejects requests
    AUDITOR = "auditor"  # reads everything, reports and the audit log; cannot act
    ADMIN = "admin"  # manages staff users


PERSONAL_DATA_PERMISSION = "backoffice.view_personal_data"

MASK = "•"


def can_see_personal_data(user: Any) -> bool:
    """Whether ``user`` may read phone numbers and IBANs in clear."""
    return bool(user is not None and user.is_active and user.has_perm(PERSONAL_DATA_PERMISSION))


def mask_msisdn(value: str | None) -> str:
    """``221771234567`` → ``22177•••••67``: the country and operator prefix and the last two digits."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 4:
        return MASK * len(digits)
    keep_head = 5 if len(digits) >= 11 else 2
    return digits[:keep_head] + MASK * (len(digits) - keep_head - 2) + digits[-2:]


def mask_iban(value: str | None) -> str:
    """``SN08SN0100152000048500003035`` → ``SN08 •••• 3035``: the country, check digits and last four."""
    if not value:
        return ""
    compact = re.sub(r"\s", "", value)
    if len(compact) <= 8:
        return MASK * len(compact)
    return f"{compact[:4]} {MASK * 4} {compact[-4:]}"


def msisdn_for(user: Any, value: str | None) -> str:
    return (value or "") if can_see_personal_data(user) else mask_msisdn(value)


def iban_for(user: Any, value: str | None) -> str:
    return (value or "") if can_see_personal_data(user) else mask_iban(value)
