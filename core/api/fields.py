"""Fields and a serializer base shared by every partner API body (one API dialect).

Text is taken as given and must be able to travel (docs/conventions.md §37): no NUL, no lone
surrogate (JSON lets ``"\\ud800"`` through, UTF-8 cannot encode it), no control character other
than tab, line feed and carriage return (PostgreSQL, XML and the providers' APIs refuse them, and
a refused row would fail only later, in a worker, after the money was held); numbers and booleans
are never coerced from strings; a body with a field we do not know is refused rather than half read.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

NOT_A_STRING = "Must be a string."
# C0 controls but tab, LF and CR; DEL and the C1 controls; the two XML non-characters.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ANY_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def unreadable_problem(value: str) -> str | None:
    """Why no store or wire of ours can hold ``value`` at all (NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return "Null characters are not allowed."
    if _SURROGATE_RE.search(value):
        return "Must be valid Unicode text (no lone surrogates)."
    return None


def text_problem(value: str, *, line_breaks: bool = True) -> str | None:
    """Why ``value`` cannot travel as text (None when it can). ``line_breaks=False`` also refuses
    tab, LF and CR (identifiers, names: one line of an ISO 20022 or provider field)."""
    unreadable = unreadable_problem(value)
    if unreadable is not None:
        return unreadable
    if (_CONTROL_RE if line_breaks else _ANY_CONTROL_RE).search(value):
        return "Control characters are not allowed."
    return None


class _StrictText:
    """A JSON string as sent: never a number or a boolean turned into one, and text that can travel."""

    not_a_string = NOT_A_STRING

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(self.not_a_string, code="invalid")
        problem = text_problem(data)
        if problem is not None:
            raise serializers.ValidationError(problem, code="invalid")
        return str(super().to_internal_value(data))  # type: ignore[misc]


class StrictCharField(_StrictText, serializers.CharField):
    """``CharField`` (trimmed, not blank by default) over a JSON string only, with text that can travel."""


class StrictRegexField(_StrictText, serializers.RegexField):
    """``RegexField`` over a JSON string only (``12345`` is not the reference ``"12345"``)."""


class TextField(StrictCharField):
    """A string as given: never coerced from a number or a boolean, valid UTF-8, no NUL, no control
    character but tab and line breaks; kept untrimmed and may be blank unless told otherwise."""

    def __init__(self, *, not_a_string: str = NOT_A_STRING, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        self.not_a_string = not_a_string
        self.error_messages["invalid"] = not_a_string


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
