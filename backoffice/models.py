"""Back-office models. The permissions that are not about one table live on ``StaffAccess``."""

from __future__ import annotations

from django.db import models


class StaffAccess(models.Model):
    """No rows: the holder of the staff permissions that are not about one table (roles use them)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_personal_data", "See customers' phone numbers and IBANs in clear"),
            ("make_request", "Ask for a four-eyes action"),
            ("decide_request", "Approve or reject a four-eyes request"),
            ("view_reports", "Read reports and the audit log"),
            ("manage_staff", "Create staff users and give them roles"),
        ]

    def __str__(self) -> str:
        return "staff access"
