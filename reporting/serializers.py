"""The statement of account as partners see it (``GET /api/v1/statements``, docs/partner-api.md §9.1)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rest_framework import serializers

from core.money import EXPONENTS

MAX_PERIOD_DAYS = 366


class StatementQuerySerializer(serializers.Serializer):
    """``from`` and ``to`` (YYYY-MM-DD, both included, Africa/Dakar), ``currency`` (XOF by default)."""

    to = serializers.DateField(help_text="the last day of the period, included (YYYY-MM-DD)")
    currency = serializers.ChoiceField(choices=sorted(EXPONENTS), default="XOF", required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "from" is a Python keyword: the field is declared here, under its query parameter's name
        fields["from"] = serializers.DateField(help_text="the first day of the period (YYYY-MM-DD)")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["from"], attrs["to"]
        if end < start:
            raise serializers.ValidationError({"to": "must not be before from"})
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"to": f"a statement covers {MAX_PERIOD_DAYS} days at most"})
        if start > date.today():
            raise serializers.ValidationError({"from": "must not be in the future"})
        return attrs


class StatementEntrySerializer(serializers.Serializer):
    booked_at = serializers.DateTimeField()
    transaction = serializers.CharField(allow_null=True, help_text="txn_… the entry belongs to, if any")
    description = serializers.CharField()
    amount = serializers.CharField(help_text="signed decimal string: negative leaves your account")
    balance_after = serializers.CharField()


class StatementSerializer(serializers.Serializer):
    object = serializers.CharField(default="statement")
    mode = serializers.CharField()
    currency = serializers.CharField()
    period = serializers.DictField(child=serializers.DateField(), help_text='{"from": …, "to": …}')
    opening_balance = serializers.CharField()
    closing_balance = serializers.CharField(help_text="opening_balance + the sum of the entries")
    entry_count = serializers.IntegerField()
    entries = StatementEntrySerializer(many=True)
