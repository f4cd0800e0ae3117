"""Idempotency keys (docs/architecture.md §4): the database's unique constraint is the guard.

``idempotency_begin`` claims ``(partner, mode, key)`` by INSERTing a row in its OWN short,
committed transaction (``atomic(durable=True)``: calling it inside another transaction is a
bug and raises). The claim must be visible before the request does any work, so a concurrent
duplicate finds the row and is answered ``409 idempotency_key_in_use`` instead of doing the
work twice. A duplicate INSERT loses on the unique constraint (caught in its own transaction);
the loser reads the winner's row and gets a replay, a 409 or a 422.

What is stored and what is abandoned (decided by ``ledger.idempotency.idempotent``):
- every response the view returns is stored, whatever its status (a 202 with a transaction,
  a 200, even a 4xx the view chose to return) and replayed byte for byte;
- an anticipated error the view raises (``GatewayError``, DRF validation, 404, 403) means the
  service changed nothing (services raise only before or by rolling back their transaction), so
  the claim is abandoned (deleted) and a corrected retry may reuse the key;
- an unexpected exception leaves the outcome unknown (the service may have committed): the 500
  answered is stored, so a retry can never move money a second time.
A claim stays ``in_progress`` if the process dies mid-request; the key then answers 409 until it
expires, the safe side: the partner resolves it by listing transactions by client_reference.

The accept path of the money-moving creates does it in ONE transaction instead of three
(``idempotency_claim_here``, used by ``@idempotent(one_transaction=True)``): the claim is the
first statement of the service's own transaction, ``INSERT … ON CONFLICT DO NOTHING``, and the
response is stored by the same transaction before it commits. A concurrent duplicate's INSERT
waits on the unique index until the first commits (then it finds the completed row: a replay, or
422 for another body) or rolls back (then it claims the key itself). Nothing is ever half done:
a failure of any kind rolls back the claim with the work, so the key stays free.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import BusinessRuleViolation, Conflict, ErrorCode, ValidationFailed
from ledger.models import IdempotencyRecord, IdempotencyState
from partners.models import Partner

RETENTION = timedelta(hours=24)
KEY_MAX_LENGTH = 255
# printable ASCII, no leading or trailing space (proxies strip them, so they could not match)
_KEY_RE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
# response headers worth replaying; per-request ones (X-Request-ID, Date) are the replay's own
STORED_HEADERS = ("content-type", "location", "preference-applied")
PURGE_BATCH = 5000


class IdempotencyKeyMissing(ValidationFailed):
    code = ErrorCode.IDEMPOTENCY_KEY_MISSING
    title = "Idempotency key missing"


class IdempotencyKeyInvalid(ValidationFailed):
    code = ErrorCode.IDEMPOTENCY_KEY_INVALID
    title = "Invalid idempotency key"


class IdempotencyKeyReused(BusinessRuleViolation):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    title = "Idempotency key reused"


class IdempotencyKeyInUse(Conflict):
    code = ErrorCode.IDEMPOTENCY_KEY_IN_USE
    title = "Idempotency key in use"


@dataclass(frozen=True)
class Begin:
    """The outcome of a claim: proceed with ``record`` (new) or answer its stored response (replay)."""

    record: IdempotencyRecord
    is_replay: bool

    @property
    def is_new(self) -> bool:
        return not self.is_replay


def idempotency_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """sha256 over method, path (with query) and the raw body bytes."""
    digest = hashlib.sha256()
    digest.update(method.upper().encode() + b"\n" + path.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def idempotency_key_validate(key: str | None) -> str:
    if key is None or key == "":
        raise IdempotencyKeyMissing("Send an Idempotency-Key header with every request that creates something.")
    if len(key) > KEY_MAX_LENGTH or not _KEY_RE.match(key):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 printable ASCII characters.")
    return key


def _claim(*, partner: Partner, mode: str, key: str, fingerprint: str, now: datetime) -> IdempotencyRecord | None:
    try:
        with db_transaction.atomic(durable=True):
            return IdempotencyRecord.objects.create(
                partner=partner, mode=mode, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + RETENTION
            )
    except IntegrityError:
        return None


_CLAIM_SQL = (
    "INSERT INTO {table} (partner_id, mode, key, fingerprint, state, response_headers, created_at, expires_at) "
    "VALUES (%s, %s, %s, %s, %s, '{{}}'::jsonb, %s, %s) ON CONFLICT DO NOTHING RETURNING id"
)


def idempotency_claim_here(*, partner: Partner, mode: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Claim the key inside the caller's transaction, in one statement; None when the key is
    already taken (committed by another request: its row tells what to answer, see
    ``idempotency_begin``). A concurrent claimer waits on the unique index until ours ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_claim_here belongs inside the acceptance's transaction.")
    now = timezone.now()
    record = IdempotencyRecord(
        partner=partner, mode=mode, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + RETENTION
    )
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL.format(table=table),
            [partner.pk, mode, key, fingerprint, IdempotencyState.IN_PROGRESS, now, record.expires_at],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    record.pk, record._state.adding = row[0], False
    return record


def _reclaim_expired(record: IdempotencyRecord, *, fingerprint: str, now: datetime) -> bool:
    """An expired row not purged yet is free again: take it over (one conditional UPDATE)."""
    changed = IdempotencyRecord.objects.filter(pk=record.pk, expires_at__lte=now).update(
        fingerprint=fingerprint,
        state=IdempotencyState.IN_PROGRESS,
        response_status=None,
        response_headers={},
        response_body=None,
        created_at=now,
        completed_at=None,
        expires_at=now + RETENTION,
    )
    return changed == 1


def idempotency_begin(*, partner: Partner, mode: str, key: str | None, fingerprint: str) -> Begin:
    """Claim the key for this request, or say why not (replay, 409 in use, 422 reused)."""
    key = idempotency_key_validate(key)
    for _ in range(3):
        now = timezone.now()
        record = _claim(partner=partner, mode=mode, key=key, fingerprint=fingerprint, now=now)
        if record is not None:
            return Begin(record=record, is_replay=False)
        existing = IdempotencyRecord.objects.filter(partner=partner, mode=mode, key=key).first()
        if existing is None:
            continue  # abandoned or purged between our INSERT and this read: claim again
        if existing.expires_at <= now:
            if _reclaim_expired(existing, fingerprint=fingerprint, now=now):
                existing.refresh_from_db()
                return Begin(record=existing, is_replay=False)
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
        if existing.state == IdempotencyState.IN_PROGRESS:
            raise IdempotencyKeyInUse(
                "A request with this Idempotency-Key is still in progress; retry later.", headers={"Retry-After": "1"}
            )
        return Begin(record=existing, is_replay=True)
    raise IdempotencyKeyInUse("This Idempotency-Key is contended; retry later.", headers={"Retry-After": "1"})


_COMPLETE_SQL = (
    "UPDATE {table} SET state = %s, response_status = %s, response_headers = %s::jsonb, response_body = %s, "
    "completed_at = %s WHERE id = %s AND state = %s"
)


def idempotency_complete(
    *, record: IdempotencyRecord, status: int, headers: Mapping[str, str], body: bytes
) -> IdempotencyRecord:
    """Store the response exactly as sent; later requests with the key replay it."""
    kept = {name: value for name, value in headers.items() if name.lower() in STORED_HEADERS}
    now = timezone.now()
    with connection.cursor() as cursor:  # plain SQL, as the claim: once per acceptance
        cursor.execute(
            _COMPLETE_SQL.format(table=IdempotencyRecord._meta.db_table),
            [
                IdempotencyState.COMPLETED,
                status,
                json.dumps(kept),
                bytes(body),
                now,
                record.pk,
                IdempotencyState.IN_PROGRESS,
            ],
        )
    record.state, record.response_status, record.response_headers = IdempotencyState.COMPLETED, status, kept
    record.response_body, record.completed_at = bytes(body), now
    return record


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    """Free the key after a failure that changed nothing, so a corrected retry may reuse it."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.IN_PROGRESS).delete()


def idempotency_purge_expired(*, now: datetime | None = None) -> int:
    """Delete expired records in batches (short statements, no long lock); returns how many."""
    now = now or timezone.now()
    deleted = 0
    while True:
        batch = list(IdempotencyRecord.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return deleted
        count, _ = IdempotencyRecord.objects.filter(pk__in=batch, expires_at__lte=now).delete()
        deleted += count
