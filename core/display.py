"""How the ops console shows things (docs/conventions.md §38, docs/console.md §1): one rule per kind of value.

- amounts: grouped by thousands in the reader's language, with their currency
  (``999 939 260 XOF`` in French with a narrow no-break space, ``999,939,260 XOF`` in English,
  ``1 500,00 EUR`` / ``1,500.00 EUR`` by the currency's exponent, core/money.py);
- moments: ``2026-12-03 22:04:30`` with seconds, in the bank's time zone (Africa/Dakar);
- enumerations: one badge with one label for a value, whatever the page;
- payloads (raw callbacks, events, headers): credentials never shown to anyone, phone numbers
  and IBANs masked unless the reader may see personal data (core/staff.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.logging import REDACTED, SENSITIVE_KEYS, mask_text
from core.money import EXPONENTS
from core.staff import can_see_personal_data, mask_iban

BANK_TIME_ZONE = ZoneInfo("Africa/Dakar")
NARROW_NO_BREAK_SPACE = "\u202f"
EMPTY = "—"

# (thousands separator, decimal separator) by language; French is the bank's.
_SEPARATORS = {"fr": (NARROW_NO_BREAK_SPACE, ","), "en": (",", ".")}


def _separators() -> tuple[str, str]:
    language = (get_language() or "fr").split("-")[0]
    return _SEPARATORS.get(language, _SEPARATORS["fr"])


def grouped(number: int) -> str:
    """An integer grouped by thousands in the reader's language (``12 345``)."""
    thousands, _decimal = _separators()
    return f"{number:,}".replace(",", thousands)


def amount(minor: int | None, currency: str | None) -> str:
    """``amount(999939260, "XOF")`` → ``999 939 260 XOF``; ``amount(150000, "EUR")`` → ``1 500,00 EUR``."""
    if minor is None:
        return EMPTY
    thousands, decimal = _separators()
    places = EXPONENTS.get(currency or "", 0)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    text = f"{whole:,}".replace(",", thousands)
    if places:
        text += decimal + str(fraction).rjust(places, "0")
    return f"{sign}{text} {currency}".rstrip() if currency else sign + text


def signed_amount(minor: int | None, currency: str | None) -> str:
    """An entry's amount with its sign always written (``+1 500 XOF``, ``-1 500 XOF``)."""
    if minor is None:
        return EMPTY
    return ("+" if minor > 0 else "") + amount(minor, currency)


def moment(value: datetime | None) -> str:
    """A moment to the second in the bank's time zone: ``2026-12-03 22:04:30``."""
    if value is None:
        return EMPTY
    if timezone.is_naive(value):
        value = timezone.make_aware(value, BANK_TIME_ZONE)
    return value.astimezone(BANK_TIME_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def moment_html(value: datetime | None) -> SafeString:
    """The same moment for a table cell: the date above the time (narrow columns fit the screen)."""
    shown = moment(value)
    if value is None:
        return format_html("{}", shown)
    day, time = shown.split(" ")
    return format_html('<span class="ap-nowrap">{}</span><br><span class="ap-nowrap">{}</span>', day, time)


def duration(delta: timedelta) -> str:
    """A short age: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


# --- enumerations --------------------------------------------------------------------------------

LABELS: dict[str, Any] = {
    "pending": _("Pending"),
    "processing": _("Processing"),
    "unknown": _("Unknown"),
    "succeeded": _("Succeeded"),
    "failed": _("Failed"),
    "reversed": _("Reversed"),
    "cancelled": _("Cancelled"),
    "expired": _("Expired"),
    "placed": _("Placed"),
    "captured": _("Captured"),
    "released": _("Released"),
    "received": _("Received"),
    "verified": _("Verified"),
    "applied": _("Applied"),
    "flagged": _("Flagged"),
    "rejected": _("Rejected"),
    "invalid_signature": _("Invalid signature"),
    "unreadable": _("Unreadable"),
    "duplicate": _("Duplicate"),
    "queued": _("Queued"),
    "unknown_reference": _("Unknown reference"),
    "completed": _("Completed"),
    "complete": _("Complete"),
    "open": _("Open"),
    "submitted": _("Submitted"),
    "done": _("Done"),
    "delivered": _("Delivered"),
    "dead": _("Dead token"),
    "retryable": _("Retryable"),
    "refused": _("Refused"),
    "url_refused": _("URL refused"),
    "ok": _("OK"),
    "unavailable": _("Unavailable"),
    "in_progress": _("In progress"),
    "test": _("Test"),
    "live": _("Live"),
    "cash_in": _("Cash-in"),
    "collection": _("Collection"),
    "bill_payment": _("Bill payment"),
    "bank_transfer_in": _("Bank transfer in"),
    "bank_transfer_out": _("Bank transfer out"),
    "refund": _("Refund"),
    "api": _("API"),
    "worker": _("Worker"),
    "callback": _("Callback"),
    "poller": _("Poller"),
    "staff": _("Staff"),
    "RTGS": _("RTGS (STAR-UEMOA)"),
    "CLEARING": _("Clearing (SICA-UEMOA)"),
}

_TONES = {
    "good": {"succeeded", "captured", "applied", "completed", "complete", "done", "delivered", "ok", "verified"},
    "bad": {"failed", "rejected", "invalid_signature", "unreadable", "dead", "refused", "url_refused", "reversed"},
    "warn": {"unknown", "flagged", "unknown_reference", "retryable", "unavailable", "duplicate"},
}


def label(value: str | None) -> str:
    """The one label of an enumeration value (``bank_transfer_out`` → ``Bank transfer out``)."""
    if not value:
        return EMPTY
    known = LABELS.get(value)
    return str(known) if known is not None else value.replace("_", " ").capitalize()


def tone(value: str | None) -> str:
    return next((name for name, values in _TONES.items() if value in values), "plain")


def badge(value: str | None) -> SafeString:
    """An enumeration value as the same badge everywhere: its label, coloured by its tone."""
    if not value:
        return format_html("{}", EMPTY)
    return format_html('<span class="ap-badge ap-badge-{}" title="{}">{}</span>', tone(value), value, label(value))


def review_mark(needs_review: bool, reason: str = "") -> SafeString:
    """A mark only where staff are asked to look; nothing on the rows that are fine."""
    if not needs_review:
        return SafeString("")
    return format_html('<span class="ap-badge ap-badge-warn" title="{}">{}</span>', reason, _("Review"))


def progress_bar(done: int, total: int, counts: Mapping[str, int]) -> SafeString:
    """A batch's progress: a bar (no script) and its items per status (``Succeeded 8 · Failed 1``)."""
    shown = format_html_join(" · ", "{} {}", ((label(s), grouped(n)) for s, n in counts.items() if n))
    return format_html(
        '<span class="ap-progress"><progress value="{}" max="{}"></progress> {} / {}</span>'
        '<div class="ap-counts">{}</div>',
        done,
        max(total, 1),
        grouped(done),
        grouped(total),
        shown,
    )


# --- payloads -------------------------------------------------------------------------------------

# Senegalese and international account numbers (ISO 13616): country, check digits, 10-30 characters.
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b")
_EXTRA_SENSITIVE = ("credential", "cookie", "session", "api_key", "private")


def is_sensitive_key(key: str) -> bool:
    """A key whose value is a credential (``Authorization``, ``X-Signature``, ``client_secret``…)."""
    lowered = key.lower().replace("-", "_")
    return any(word in lowered for word in (*SENSITIVE_KEYS, *_EXTRA_SENSITIVE))


def scrub(value: Any, key: str | None = None) -> Any:
    """A structured value with credentials redacted by key and inside text (core/logging.py),
    and phone numbers masked (core.logging.mask_text)."""
    if key is not None and is_sensitive_key(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def _mask_ibans(text: str) -> str:
    return _IBAN_RE.sub(lambda match: mask_iban(match.group(0)), text)


def personal_text(user: Any, text: str) -> str:
    """Free text that may hold a phone number or an IBAN (a bill's customer reference…), as
    ``user`` may read it: in clear with the personal-data permission, masked otherwise."""
    if not text or can_see_personal_data(user):
        return text
    return _mask_ibans(mask_text(text))


def payload(value: Any) -> str:
    """A stored payload (JSON, bytes of JSON or XML, text), indented, as anyone may read it:
    credentials redacted, phone numbers and IBANs masked (the record's own fields show them to
    the staff allowed to read them)."""
    if isinstance(value, bytes | memoryview):
        text = bytes(value).decode("utf-8", errors="replace")
        try:
            value = json.loads(text)
        except ValueError:
            return _mask_ibans(mask_text(text))
    if isinstance(value, str):
        return _mask_ibans(mask_text(value))
    return _mask_ibans(json.dumps(scrub(value), indent=2, ensure_ascii=False, sort_keys=True, default=str))


def payload_block(value: Any, *, limit: int = 20_000) -> SafeString:
    text = payload(value)
    if len(text) > limit:
        text = text[:limit] + "\n…"
    return format_html('<pre class="ap-payload">{}</pre>', text)
