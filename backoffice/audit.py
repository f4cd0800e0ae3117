"""The audit log: one door to write it, one to check it (docs/staff-security.md §3).

``audit_record`` appends a record in the caller's transaction: it takes a transaction-level
advisory lock, reads the last record, and writes ``seq = last + 1`` with a hash chained to the
last record's. Concurrent writers queue on the lock, so the sequence has no gap and the chain no
fork; a rolled-back action takes its record with it. The lock is held until the caller's
transaction ends: call ``audit_record`` last in a long transaction.

``audit_verify`` walks the chain and names the first record that does not belong to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from backoffice.client_ip import client_ip
from backoffice.models import AuditRecord
from core.logging import mask_value, request_id_var

# pg_advisory_xact_lock key of the audit log's writers ("AUDITLOG" in ASCII, fits a bigint).
ADVISORY_LOCK_KEY = 0x4155444954_4C4F47
GENESIS_HASH = "0" * 64

# The request being served, for records written where no request is at hand (signal receivers
# such as the admin's LogEntry one). Set by backoffice.middleware.StaffSecurityMiddleware.
current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditRecord:
    """Append one record: ``actor`` None is the system; ``data`` is masked (never a secret)."""
    if not action:
        raise ValueError("an audit record needs an action")
    request = request if request is not None else current_request.get()
    if actor is not None and not actor.is_authenticated:
        actor = None
    clean = json.loads(json.dumps(mask_value(data or {}), cls=DjangoJSONEncoder))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        last = AuditRecord.objects.order_by("-seq").values_list("seq", "record_hash").first()
        seq, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        record = AuditRecord(
            seq=seq,
            created_at=timezone.now(),
            actor_id=actor.pk if actor is not None else None,
            actor_username=actor.get_username() if actor is not None else "",
            action=action[:64],
            target=target[:200],
            data=clean,
            ip_address=client_ip(request) if request is not None else None,
            request_id=(request_id_var.get() or "")[:64],
            previous_hash=previous_hash,
        )
        record.record_hash = record_digest(record)
        record.save(force_insert=True)
    return record


def record_digest(record: AuditRecord) -> str:
    """HMAC-SHA256 over the record's content and the previous record's hash."""
    created_at = record.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    content = {
        "seq": record.seq,
        "created_at": created_at,
        "actor_id": record.actor_id,
        "actor_username": record.actor_username,
        "action": record.action,
        "target": record.target,
        "data": record.data,
        "ip_address": record.ip_address,
        "request_id": record.request_id,
        "previous_hash": record.previous_hash,
    }
    message = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def audit_key() -> bytes:
    return str(settings.AUDIT_LOG_KEY).encode()


@dataclass(frozen=True)
class ChainReport:
    """What ``audit_verify`` found: the records checked, and the first bad one if any."""

    count: int
    bad_seq: int | None = None
    bad_id: int | None = None
    problem: str = ""

    @property
    def is_intact(self) -> bool:
        return not self.problem


def audit_verify(*, batch_size: int = 2000) -> ChainReport:
    """Walk the chain in ``seq`` order: a gap, a broken link or a wrong hash is reported."""
    expected_seq, previous_hash, count = 1, GENESIS_HASH, 0
    for record in _records_in_order(batch_size):
        if record.seq != expected_seq:
            return ChainReport(
                count,
                record.seq,
                record.pk,
                f"record #{record.seq} (id {record.pk}) follows #{expected_seq - 1}: "
                f"record #{expected_seq} is missing or the record was inserted out of order",
            )
        if not hmac.compare_digest(record.previous_hash, previous_hash):
            return ChainReport(
                count,
                record.seq,
                record.pk,
                f"record #{record.seq} (id {record.pk}) is not chained to record #{record.seq - 1}",
            )
        if not hmac.compare_digest(record.record_hash, record_digest(record)):
            problem = f"record #{record.seq} (id {record.pk}) was altered: its hash does not match"
            return ChainReport(count, record.seq, record.pk, problem)
        count += 1
        expected_seq += 1
        previous_hash = record.record_hash
    return ChainReport(count)


def _records_in_order(batch_size: int) -> Iterator[AuditRecord]:
    after = 0
    while True:
        batch = list(AuditRecord.objects.filter(seq__gt=after).order_by("seq")[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].seq


def request_actor(request: HttpRequest | None) -> AbstractBaseUser | None:
    """The authenticated user of ``request``, or None (the system)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
