"""Report files written for auditors and finance (docs/reports.md §1): kept for download, each
registered with its SHA-256 in the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.ids import new_id


def new_report_id() -> str:
    return new_id("rpt")


class ReportKind(models.TextChoices):
    JOURNAL = "journal", "Transaction journal"
    STATEMENT = "statement", "Account statement"
    DAILY_SUMMARY = "daily_summary", "Daily summary"
    FLOAT_POSITION = "float_position", "Float position"


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being written"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ReportFile(models.Model):
    """One report file asked for (by staff or a scheduled job), its progress and its fingerprint."""

    Kind = ReportKind
    Status = ReportStatus

    public_id = models.CharField(max_length=40, unique=True, default=new_report_id, editable=False)
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    file_format = models.CharField(max_length=4, choices=ReportFormat.choices)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_written = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True, default="", help_text="inside REPORTS_DIR")
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ReportKind.values), name="reports_file_kind_known"),
            models.CheckConstraint(condition=Q(status__in=ReportStatus.values), name="reports_file_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind}.{self.file_format} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == ReportStatus.DONE:
            return 100
        return int(100 * self.rows_written / self.rows_total) if self.rows_total else 0


class FloatSnapshot(models.Model):
    """The float a provider reported at one moment (kept for the float position of each day)."""

    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=4)
    currency = models.CharField(max_length=3)
    reported_minor = models.BigIntegerField()
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["provider", "mode", "currency", "taken_at"], name="reports_float_taken")]

    def __str__(self) -> str:
        return f"{self.provider} {self.mode} {self.reported_minor} {self.currency} at {self.taken_at}"
