"""Back-office models. The permissions that are not about one table live on ``StaffAccess``."""

from __future__ import annotations

from django.conf import settings
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


class AuditRecord(models.Model):
    """One staff or system action, append-only, chained to the record before it by a keyed hash.

    ``seq`` is dense (1, 2, 3… with no gap: backoffice/audit.py assigns it under a lock), and
    ``record_hash`` is HMAC-SHA256 (key ``AUDIT_LOG_KEY``) over this record's content and the
    previous record's hash. The database refuses UPDATE, DELETE and TRUNCATE (migration 0002);
    ``manage.py audit_verify`` recomputes the chain (docs/staff-security.md §3).
    """

    seq = models.BigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False, db_index=True)
    # No database constraint and no cascade: deleting a user must never touch the log.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        editable=False,
    )
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=64, db_index=True, editable=False)
    target = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    data = models.JSONField(default=dict, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    request_id = models.CharField(max_length=64, blank=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    record_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        constraints = [models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target}".strip()
