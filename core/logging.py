"""Structured logs: the request context, masking of personal data and secrets, JSON lines.

Every log line carries the request id of the request (or of the task the request enqueued),
so an operation is traceable end to end. Phone numbers keep only their last three digits and
credentials are never written, whatever the caller passed to the logger.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
partner_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("partner", default=None)
transaction_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("transaction", default=None)

REDACTED = "[REDACTED]"

# Keys whose values are never logged (substring match, case-insensitive).
SENSITIVE_KEYS = ("authorization", "api_key", "apikey", "secret", "pin", "password", "token", "signature")

# E.164 (+221771234567), international prefix (00221…), 221 + 9 digits, and the 9-digit
# Senegalese mobile form (70/75/76/77/78…): keep the last three digits. Plain amounts are
# left alone.
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+\d{8,15}|00\d{8,15}|221[37]\d{8}|7[05678]\d{7}|3[03]\d{7})(?![\w])")
_AUTH_HEADER_RE = re.compile(r"(?i)(authorization\s*[:=]\s*)(?:bearer|basic|token)?\s*[^\s,;\"']+")
_KV_RE = re.compile(
    r"(?i)([\"']?\b(?:[a-z_]*(?:api_key|apikey|secret|pin|password|token|signature)[a-z_]*)\b[\"']?\s*[:=]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
)
_SIGNATURE_HEADER_RE = re.compile(r"(?i)(\b[a-z-]*signature\s*[:=]\s*)[^\s\"']+")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
# our own credentials named in free text (an API key, a signing secret): the prefix is kept
_OUR_SECRET_RE = re.compile(r"\b((?:ak|ss)_(?:test|live)_)[A-Za-z0-9_-]{8,}")


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "*" * max(len(digits) - 3, 0) + digits[-3:]


def mask_text(text: str) -> str:
    """Mask credentials and phone numbers inside free text."""
    text = _AUTH_HEADER_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SIGNATURE_HEADER_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + " " + REDACTED, text)
    text = _KV_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _OUR_SECRET_RE.sub(lambda m: m.group(1) + REDACTED, text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SENSITIVE_KEYS)


def mask_value(value: Any, key: str | None = None) -> Any:
    """Mask a structured value: sensitive keys are redacted, strings are scanned."""
    if key is not None and _is_sensitive(key):
        return REDACTED
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RequestContextFilter(logging.Filter):
    """Adds the request id, partner and transaction of the current context to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        if not getattr(record, "partner", None):
            record.partner = partner_var.get()
        if not getattr(record, "transaction", None):
            record.transaction = transaction_var.get()
        return True


class MaskingFilter(logging.Filter):
    """Rewrites the message and the extra fields of a record with secrets and phones masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD_ATTRS or key in ("request_id", "partner", "transaction"):
                continue
            record.__dict__[key] = mask_value(value, key)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """Logstash-compatible JSON lines: ``@timestamp``, ``level``, ``logger``, ``message``…"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["@timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record["message"] = record.getMessage()
        for name in ("request_id", "partner", "transaction"):
            log_record[name] = getattr(record, name, None)
        if record.exc_info and "exc_info" in log_record:
            log_record["exc_info"] = mask_text(str(log_record["exc_info"]))


@contextmanager
def bound_context(
    *, request_id: str | None = None, partner: str | None = None, transaction: str | None = None
) -> Iterator[None]:
    """Bind log context for a block (used by tasks and services)."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if partner is not None:
        tokens.append((partner_var, partner_var.set(partner)))
    if transaction is not None:
        tokens.append((transaction_var, transaction_var.set(transaction)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
