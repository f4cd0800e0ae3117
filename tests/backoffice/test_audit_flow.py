"""The audit log over a real flow, and its sequence under concurrent writers (docs/staff-security.md §3)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from backoffice.audit import audit_record, audit_verify
from backoffice.models import AuditRecord
from backoffice.services import StaffUserCreated


@pytest.mark.django_db
def test_a_flow_is_recorded_and_verifies(
    staff_client: Client, make_staff: Callable[..., StaffUserCreated], capsys: pytest.CaptureFixture[str]
) -> None:
    operator = make_staff("operator", "awa")
    client = Client()
    client.post("/admin/login/", {"username": "awa", "password": "not-the-password"})
    client.post("/admin/login/", {"username": "awa", "password": operator.password})
    client.post(reverse("admin:logout"))
    group = Group.objects.create(name="night-shift")
    changed = staff_client.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": "night-team"})
    assert changed.status_code == 302
    audit_record(actor=operator.user, action="partner.suspended", target="partner:ptn_demo", data={"reason": "test"})

    actions = list(AuditRecord.objects.order_by("seq").values_list("action", "target"))
    assert actions == [
        ("auth.login", "user:staff"),  # the superuser fixture's session
        ("staff.created", "user:awa"),
        ("auth.login_failed", "user:awa"),
        ("auth.login", "user:awa"),
        ("auth.logout", "user:awa"),
        ("admin.change", f"auth.group:{group.pk}"),
        ("partner.suspended", "partner:ptn_demo"),
    ]
    change = AuditRecord.objects.get(action="admin.change")
    assert change.actor_username == "staff" and change.data["object"] == "night-team"
    call_command("audit_verify")
    assert capsys.readouterr().out.strip() == f"audit log intact: {len(actions)} records"


WRITERS = 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_a_dense_sequence_and_one_chain() -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait()
            for item in range(3):
                audit_record(actor=None, action="test.concurrent", target=f"writer:{number}", data={"item": item})
        except Exception as exc:  # noqa: BLE001  (reported below: a thread's failure must fail the test)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, WRITERS * 3 + 1))
    report = audit_verify()
    assert report.is_intact and report.count == WRITERS * 3
