"""Four-eyes requests: one staff member asks (the maker), another approves or rejects (the checker).

The database holds the rules too (docs/conventions.md §11): the checker is never the maker, and
one action on one target has at most one pending request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.crypto import EncryptedTextField


class Action(models.TextChoices):
    """What a request asks for; the codes are the contract of the request form's ``?action=``."""

    FORCE_RESOLVE = "force_resolve", "Force-resolve a transaction"
    REVERSE = "reverse", "Reverse a succeeded payment"
    TOP_UP = "top_up", "Top up a partner account"
    OVERDRAFT = "overdraft", "Change an overdraft limit"
    PARTNER_SCOPES = "partner_scopes", "Change a partner's scopes"
    PARTNER_LIMITS = "partner_limits", "Change a partner's limits"
    ROTATE_SECRET = "rotate_secret", "Rotate a signing secret"
    REVOKE_KEY = "revoke_key", "Revoke an API key"
    # registered by reconciliation/four_eyes.py (docs/reports.md §3.4), the app that executes it
    ADJUSTMENT = "adjustment", "Resolve a reconciliation break by an adjustment posting"


class RequestStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"  # decided, about to be executed in the same call
    EXECUTED = "executed"
    FAILED = "failed"  # approved, but no longer valid when executed: nothing was changed
    REJECTED = "rejected"
    EXPIRED = "expired"


class ApprovalRequest(models.Model):
    """One staff action waiting for, or having had, a second person's decision."""

    action = models.CharField(max_length=20, choices=Action.choices)
    target = models.CharField(max_length=100, help_text="transaction public id, partner code or credential id")
    reason = models.TextField(help_text="why the maker asks")
    current_value = models.JSONField(default=dict, blank=True)
    requested_value = models.JSONField(default=dict, blank=True)
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="what the execution did")
    failure_message = models.TextField(blank=True)
    # A secret made by an approved rotation waits here, encrypted, until the maker has seen it once.
    secret_for_maker = EncryptedTextField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checker__isnull=True) | ~Q(checker=F("maker")), name="approvalrequest_checker_not_maker"
            ),
            models.UniqueConstraint(
                fields=["action", "target"], condition=Q(status="pending"), name="approvalrequest_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", checker__isnull=True) | ~Q(status="pending"),
                name="approvalrequest_pending_undecided",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="approvalrequest_due")]

    def __str__(self) -> str:
        return f"request #{self.pk}: {self.get_action_display()} {self.target} ({self.status})"
