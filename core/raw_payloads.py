"""Raw payloads at rest: credential headers never stored in clear, raw bodies erased after a while.

Provider callbacks are stored raw before anything else (docs/architecture.md §4), and partner
webhooks keep the bytes they POST. Two rules keep those rows from becoming a store of secrets
and personal data (issue 17, item 5):

- ``headers_redacted``: what is stored of a request's headers. A credential header
  (``Authorization``, a cookie, a signature, an API key or token) keeps its name and a short
  fingerprint, never its value; the signature check runs on the original headers, not on these.
- ``raw_payloads_purge``: the beat task ``core.purge_raw_payloads`` erases the raw fields of rows
  older than ``RAW_PAYLOAD_RETENTION_DAYS``. A model opts in by declaring what is raw in it::

      raw_payload = RawPayload(age_field="received_at", erased={"raw_body": b"", "headers": {}})

  The rows stay (statuses, event ids and their unique constraints are the audit trail); only
  the raw fields are emptied, and rows still being worked on (``busy``) are left alone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger("core.raw_payloads")

# Header names holding a credential (substring match, case-insensitive).
CREDENTIAL_HEADER_WORDS = ("authorization", "cookie", "signature", "secret", "token", "api-key", "apikey", "password")
PURGE_BATCH = 2000


def is_credential_header(name: str) -> bool:
    lowered = name.lower().replace("_", "-")
    return any(word in lowered for word in CREDENTIAL_HEADER_WORDS)


def header_fingerprint(value: str) -> str:
    """What is stored instead of a credential: enough to tell two values apart, nothing to reuse."""
    return "[REDACTED sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12] + "]"


def headers_redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers to store: credential headers replaced by a fingerprint."""
    return {
        name: header_fingerprint(str(value)) if is_credential_header(name) else str(value)
        for name, value in headers.items()
    }


@dataclass(frozen=True)
class RawPayload:
    """Declared on a model (``raw_payload = RawPayload(...)``): its raw fields and their erased values."""

    age_field: str
    erased: Mapping[str, object]
    busy: Q = field(default_factory=Q)  # rows never erased yet (still to be verified, applied or sent)


def raw_payloads_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Erase the raw fields of every declaring model's rows past the retention; answer counts by model."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RAW_PAYLOAD_RETENTION_DAYS)
    erased: dict[str, int] = {}
    for model in apps.get_models():
        spec = getattr(model, "raw_payload", None)
        if not isinstance(spec, RawPayload):
            continue
        due = model._default_manager.filter(**{f"{spec.age_field}__lt": cutoff}).exclude(Q(**spec.erased))
        if spec.busy:
            due = due.exclude(spec.busy)
        count = 0
        while pks := list(due.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH]):
            count += model._default_manager.filter(pk__in=pks).update(**spec.erased)
        erased[model._meta.label] = count
        if count:
            logger.info("raw payloads erased", extra={"model": model._meta.label, "rows": count})
    return erased
