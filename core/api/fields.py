"""Fields and a serializer base shared by every partner API body (one API dialect).

Text is taken as given and must be able to travel (no NUL; no lone surrogate, which JSON lets
through and UTF-8 cannot encode); numbers and booleans are never coerced from strings; a body
with a field we do not know is refused rather than half read.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

NOT_A_STRING = "Must be a string."


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot travel as text to FCM or Kafka (None when it can)."""
    if "\x00" in value:
        return "Null characters are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (no lone surrogates)."
    return None


class TextField(serializers.CharField):
    """A string as given: never coerced from a number or a boolean, valid UTF-8, no NUL."""

    def __init__(self, *, not_a_string: str = NOT_A_STRING, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        self.error_messages["invalid"] = not_a_string

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        problem = text_problem(data)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return str(super().to_internal_value(data))


class WholeNumberField(serializers.IntegerField):
    """An integer as given: ``"60"``, ``60.0`` and ``true`` are refused, not converted."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class FlagField(serializers.BooleanField):
    """A JSON boolean as given (``"yes"`` and ``1`` are refused)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ClosedSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo must not be silently ignored)."""

    unknown_message = "Unknown field."

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**self._unknown_errors(unknown), **exc.detail}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(self._unknown_errors(unknown))
        return value

    def _unknown_errors(self, unknown: list[str]) -> dict[str, Any]:
        return {key: [self.unknown_message] for key in unknown}
