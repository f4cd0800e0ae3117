"""The report forms of the console (docs/reports.md §1): validated like any input, bad input
is shown back to staff with its reason, nothing is written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from ledger.models import Account
from ledger.states import Status
from partners.models import Mode
from reporting.models import ReportFormat
from reporting.selectors import RAIL_KINDS

MAX_STREAMED_DAYS = 31  # longer journals are written to a file by a worker (XLSX or CSV)


def _blank(choices: Any) -> list[tuple[str, str]]:
    return [("", "all"), *choices]


class PeriodForm(forms.Form):
    date_from = forms.DateField(label="From (included)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise forms.ValidationError("The period ends before it begins.")
        return data


class JournalForm(PeriodForm):
    partner = forms.CharField(required=False, max_length=64, help_text="a partner's code")
    mode = forms.ChoiceField(choices=_blank(Mode.choices), required=False)
    rail = forms.ChoiceField(choices=_blank([(r, r) for r in sorted(RAIL_KINDS)]), required=False)
    provider = forms.CharField(required=False, max_length=40)
    status = forms.ChoiceField(choices=_blank(Status.choices), required=False)
    file_format = forms.ChoiceField(choices=ReportFormat.choices, label="Format")
    delivery = forms.ChoiceField(
        choices=[("stream", "Download now (CSV, up to 31 days)"), ("file", "Write a file in the background")]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        streamed = data.get("delivery") == "stream"
        if streamed and data.get("file_format") == ReportFormat.XLSX:
            raise forms.ValidationError("An XLSX journal is written in the background: choose the file delivery.")
        period = data["date_to"] - data["date_from"] if data.get("date_from") and data.get("date_to") else None
        if streamed and period is not None and period >= timedelta(days=MAX_STREAMED_DAYS):
            raise forms.ValidationError("Over 31 days, have the journal written in the background.")
        return data


class StatementForm(PeriodForm):
    account = forms.CharField(max_length=40, help_text="the account's id (acc_…)")

    def clean_account(self) -> Account:
        account = Account.objects.filter(public_id=self.cleaned_data["account"].strip()).first()
        if account is None:
            raise forms.ValidationError("No such account.")
        return account


class DayForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    mode = forms.ChoiceField(choices=Mode.choices, initial=Mode.LIVE)

    def clean_day(self) -> Any:
        day = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise forms.ValidationError("That day has not come yet.")
        return day
