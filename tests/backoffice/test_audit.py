"""The audit log: append-only in the database, a dense sequence, a keyed hash chain."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from backoffice.audit import GENESIS_HASH, audit_record, audit_verify
from backoffice.models import AuditRecord

pytestmark = pytest.mark.django_db

REFUSED = (InternalError, ProgrammingError)


def _write(count: int) -> list[AuditRecord]:
    return [audit_record(actor=None, action="test.write", target=f"thing:{n}", data={"n": n}) for n in range(count)]


def _bypassing_triggers(sql: str, params: list[object]) -> None:
    """Tamper as a database owner would: with the append-only triggers switched off for this session."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_records_are_numbered_and_chained(capsys: pytest.CaptureFixture[str]) -> None:
    records = _write(3)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].previous_hash == GENESIS_HASH
    assert records[1].previous_hash == records[0].record_hash
    assert records[2].previous_hash == records[1].record_hash
    call_command("audit_verify")
    assert capsys.readouterr().out.strip() == "audit log intact: 3 records"


def test_data_is_masked_and_json_safe() -> None:
    record = audit_record(
        actor=None, action="test.masked", data={"password": "hunter2-hunter2", "msisdn": "+221771234567"}
    )
    record.refresh_from_db()
    assert "hunter2" not in str(record.data)
    assert "771234567" not in str(record.data)
    assert audit_verify().is_intact


def test_an_updated_record_is_named() -> None:
    _write(4)
    _bypassing_triggers("UPDATE backoffice_auditrecord SET target = 'thing:forged' WHERE seq = 2", [])
    with pytest.raises(CommandError, match=r"record #2 .* was altered"):
        call_command("audit_verify")


def test_a_deleted_record_is_named() -> None:
    _write(4)
    _bypassing_triggers("DELETE FROM backoffice_auditrecord WHERE seq = 3", [])
    with pytest.raises(CommandError, match=r"record #4 .* record #3 is missing"):
        call_command("audit_verify")


def test_a_forged_insert_is_named() -> None:
    last = _write(3)[-1]
    # A record forged without the key, chained to the last one: its hash cannot be right.
    AuditRecord.objects.create(
        seq=4,
        created_at=last.created_at,
        action="test.forged",
        previous_hash=last.record_hash,
        record_hash="f" * 64,
    )
    with pytest.raises(CommandError, match=r"record #4 .* was altered"):
        call_command("audit_verify")


def test_a_record_inserted_out_of_order_is_named() -> None:
    last = _write(2)[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO backoffice_auditrecord (seq, created_at, actor_username, action, target, data,"
            " request_id, previous_hash, record_hash) VALUES (7, now(), '', 'test.forged', '', '{}', '', %s, %s)",
            [last.record_hash, "e" * 64],
        )
    with pytest.raises(CommandError, match=r"record #7 .* record #3 is missing"):
        call_command("audit_verify")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE backoffice_auditrecord SET action = 'x'",
        "DELETE FROM backoffice_auditrecord",
        "TRUNCATE backoffice_auditrecord",
    ],
)
def test_the_database_refuses_to_change_the_log_in_sql(statement: str) -> None:
    _write(2)
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        # the suite's connections may TRUNCATE (config/settings.py); a production connection may not
        cursor.execute("SET LOCAL backoffice.audit_log_truncate = ''")
        cursor.execute(statement)
    assert AuditRecord.objects.count() == 2
    assert audit_verify().is_intact


def test_the_database_refuses_to_change_the_log_through_the_orm() -> None:
    record = _write(2)[0]
    record.target = "thing:forged"
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        record.save()
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(seq=2).update(action="x")
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.filter(target="thing:forged").count() == 0
    assert audit_verify().is_intact
