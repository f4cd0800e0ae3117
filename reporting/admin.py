"""The reports in the console (docs/reports.md §1): for staff with ``backoffice.view_reports``
(the auditor, supervisor and admin roles). A form per report; CSV is streamed at once, longer
journals and XLSX are written by a worker and kept for download, with their progress shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from reporting.forms import DayForm, JournalForm, StatementForm
from reporting.models import ReportFile, ReportFormat, ReportKind, ReportStatus
from reporting.services import report_path, report_request, report_source, report_stream

REPORTS_PERMISSION = "backoffice.view_reports"


def can_read_reports(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and request.user.has_perm(REPORTS_PERMISSION))


def _streamed(request: HttpRequest, kind: str, parameters: dict[str, Any], name: str) -> StreamingHttpResponse:
    source = report_source(kind, parameters)
    user = request.user if request.user.is_authenticated else None
    chunks = report_stream(source, actor=user, kind=kind, parameters=parameters, name=name)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class ReadOnlyForReports(admin.ModelAdmin):
    """Seen by staff who may read reports, changed by nobody (reports and reconciliation)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_read_reports(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read_reports(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportFile)
class ReportFileAdmin(ReadOnlyForReports):
    list_display = ("public_id", "kind", "file_format", "status", "progress", "rows_written", "created_at", "download")
    list_filter = ("kind", "file_format", "status")
    readonly_fields = [f.name for f in ReportFile._meta.fields]
    change_list_template = "admin/reporting/reportfile_change_list.html"

    @admin.display(description="progress")
    def progress(self, report: ReportFile) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {} %', report.progress_percent, report.progress_percent
        )

    @admin.display(description="file")
    def download(self, report: ReportFile) -> str:
        if report.status != ReportStatus.DONE:
            return "-"
        url = reverse("admin:reporting_reportfile_download", args=[report.public_id])
        return format_html('<a href="{}">download</a> <small>sha256 {}…</small>', url, report.sha256[:16])

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("new/", self.admin_site.admin_view(self.reports_view), name="reporting_reports"),
            path(
                "<str:public_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="reporting_reportfile_download",
            ),
        ]
        return own + super().get_urls()

    def reports_view(self, request: HttpRequest) -> HttpResponseBase:
        """The forms; a valid one answers the report (or queues the file), an invalid one is shown back."""
        if not can_read_reports(request):
            raise PermissionDenied
        chosen = request.GET.get("report", "")
        forms = {
            "journal": JournalForm(request.GET if chosen == "journal" else None, prefix="journal"),
            "statement": StatementForm(request.GET if chosen == "statement" else None, prefix="statement"),
            "daily_summary": DayForm(request.GET if chosen == "daily_summary" else None, prefix="summary"),
            "float_position": DayForm(request.GET if chosen == "float_position" else None, prefix="float"),
        }
        form = forms.get(chosen)
        if form is not None and form.is_valid():
            return self._answer(request, chosen, form.cleaned_data)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reports",
            "forms": forms,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/reporting/reports.html", context, status=400 if form else 200)

    def _answer(self, request: HttpRequest, chosen: str, data: dict[str, Any]) -> HttpResponseBase:
        if chosen == "journal":
            parameters = {
                "date_from": data["date_from"].isoformat(),
                "date_to": data["date_to"].isoformat(),
                **{k: data[k] for k in ("partner", "mode", "rail", "provider", "status") if data[k]},
            }
            if data["delivery"] == "stream":
                name = f"journal-{parameters['date_from']}-{parameters['date_to']}.csv"
                return _streamed(request, ReportKind.JOURNAL, parameters, name)
            report_request(
                kind=ReportKind.JOURNAL,
                file_format=data["file_format"],
                parameters=parameters,
                requested_by=request.user,  # type: ignore[arg-type]
            )
            return HttpResponseRedirect(reverse("admin:reporting_reportfile_changelist"))
        if chosen == "statement":
            parameters = {
                "account": data["account"].public_id,
                "date_from": data["date_from"].isoformat(),
                "date_to": data["date_to"].isoformat(),
            }
            name = f"statement-{data['account'].public_id}-{parameters['date_from']}-{parameters['date_to']}.csv"
            return _streamed(request, ReportKind.STATEMENT, parameters, name)
        parameters = {"day": data["day"].isoformat(), "mode": data["mode"]}
        return _streamed(request, chosen, parameters, f"{chosen}-{parameters['mode']}-{parameters['day']}.csv")

    def download_view(self, request: HttpRequest, public_id: str) -> FileResponse:
        if not can_read_reports(request):
            raise PermissionDenied
        report = get_object_or_404(ReportFile, public_id=public_id, status=ReportStatus.DONE)
        content_type = (
            "text/csv"
            if report.file_format == ReportFormat.CSV
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return FileResponse(
            report_path(report).open("rb"), as_attachment=True, filename=report.file_name, content_type=content_type
        )
