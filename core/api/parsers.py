"""The JSON parser of the partner API (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

DRF's ``JSONParser`` answers a body nested deeper than Python's recursion limit with a
``RecursionError`` (a 500), and hands the views strings that cannot travel: ``"\\u0000"``
(PostgreSQL refuses it in text and JSON columns) and lone surrogates such as ``"\\ud800"`` (UTF-8
cannot encode them: Kafka, FCM, XML and our logs fail on them later). This parser refuses both at
the door with a 400 problem naming the field (``items[3].msisdn``), before any view, serializer or
service sees the body; it also refuses nesting deeper than ``MAX_JSON_DEPTH`` (no body of ours
needs more than 5 levels).
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import IO, Any, cast

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]  # not in the stubs
from rest_framework.utils import json

from core.api.fields import unreadable_problem
from core.errors import FieldError, ValidationFailed

MAX_JSON_DEPTH = 32


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def json_problems(document: Any, *, max_depth: int = MAX_JSON_DEPTH, check_text: bool = True) -> list[FieldError]:
    """Where a parsed JSON document nests too deeply or holds text that cannot travel (keys
    included); walked with an explicit stack, so a deep document cannot exhaust the recursion.
    ``check_text=False`` looks at the nesting only (the parser knows when no text can be wrong)."""
    problems: list[FieldError] = []
    stack: list[tuple[str, Any, int]] = [("", document, 1)]
    while stack and len(problems) < 20:
        where, value, depth = stack.pop()
        if isinstance(value, str):
            problem = unreadable_problem(value) if check_text else None
            if problem is not None:
                problems.append(FieldError(where, problem))
            continue
        if not isinstance(value, Mapping | list):
            continue
        if depth > max_depth:
            problems.append(FieldError(where, f"Nested deeper than {max_depth} levels."))
            continue
        if not check_text and not any(isinstance(child, Mapping | list) for child in _children(value)):
            continue  # only scalars below: nothing more to find here
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, child in items:
            problem = unreadable_problem(key) if check_text and isinstance(key, str) else None
            if problem is not None:
                problems.append(FieldError(where, f"A key: {problem}"))
                continue
            stack.append((_path(where, key), child, depth + 1))
    return sorted(problems, key=lambda problem: problem.field)


def _children(value: Mapping[Any, Any] | list[Any]) -> Any:
    return value.values() if isinstance(value, Mapping) else value


class GatewayJSONParser(JSONParser):
    """``JSONParser`` that refuses, with a 400 problem, what no view can use (see the module)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            decoded = cast(IO[str], codecs.getreader(encoding)(stream))
            constant = json.strict_constant if self.strict else None
            text = decoded.read()
            document = json.loads(text, parse_constant=constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # A NUL or a lone surrogate can only reach a string through a \u escape (JSON text allows
        # neither raw, and the text was decoded strictly): without one, only the nesting is looked at
        problems = json_problems(document, check_text="\\u" in text)
        if problems:
            raise ValidationFailed(
                "; ".join(f"{p.field or 'body'}: {p.message}" for p in problems[:5]), errors=problems
            )
        return document
