"""The four roles' groups and permissions, and create_staff_user (docs/staff-security.md §1)."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from backoffice.models import AuditRecord
from core.staff import Role

pytestmark = pytest.mark.django_db

WRITE_PREFIXES = ("add_", "change_", "delete_")


def perms_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    pairs = group.permissions.values_list("content_type__app_label", "codename")
    return {f"{app}.{codename}" for app, codename in pairs}


def every_view_permission() -> set[str]:
    """Each model's own view permission (a model of an app not migrated yet has none to give)."""
    wanted = {
        (model._meta.app_label, f"view_{model._meta.model_name}")
        for model in apps.get_models()
        if "view" in model._meta.default_permissions
    }
    existing = set(Permission.objects.values_list("content_type__app_label", "codename"))
    assert {("partners", "view_partner"), ("backoffice", "view_auditrecord"), ("auth", "view_user")} <= existing
    return {f"{app}.{codename}" for app, codename in wanted & existing}


def test_the_migration_creates_the_four_groups_with_their_permissions() -> None:
    Group.objects.all().delete()
    migration = importlib.import_module("backoffice.migrations.0003_roles")
    state_apps = MigrationExecutor(connection).loader.project_state(("backoffice", "0003_roles")).apps
    migration.create_roles(state_apps, SimpleNamespace(connection=connection))
    assert set(Group.objects.values_list("name", flat=True)) == {"operator", "supervisor", "auditor", "admin"}
    assert "backoffice.make_request" in perms_of("operator")
    assert "backoffice.decide_request" in perms_of("supervisor")
    assert "backoffice.view_reports" in perms_of("auditor")
    assert "backoffice.manage_staff" in perms_of("admin")


def test_each_role_holds_exactly_its_permissions() -> None:
    views = every_view_permission()
    operator, supervisor, auditor, admin = (perms_of(role) for role in Role)
    assert operator == views | {"backoffice.make_request"}  # personal data stays masked
    assert supervisor == views | {
        "backoffice.decide_request",
        "backoffice.view_personal_data",
        "backoffice.view_reports",
    }
    assert auditor == views | {"backoffice.view_reports", "backoffice.view_personal_data"}
    assert not any(perm.partition(".")[2].startswith(WRITE_PREFIXES) for perm in operator | supervisor | auditor)
    assert admin == {  # reports are for auditors, supervisors and admins (docs/reports.md)
        "backoffice.manage_staff",
        "backoffice.view_reports",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.add_group",
        "auth.change_group",
        "auth.view_group",
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    }


def test_a_model_added_later_is_seen_by_the_reading_roles_after_migrate() -> None:
    content_type = ContentType.objects.create(app_label="partners", model="latermodel")
    Permission.objects.create(codename="view_latermodel", name="Can view later model", content_type=content_type)
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    for role in ("operator", "supervisor", "auditor"):
        assert "partners.view_latermodel" in perms_of(role)
    assert "partners.view_latermodel" not in perms_of("admin")


def test_create_staff_user_prints_a_password_that_signs_in(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_staff_user", "--username", "awa", "--email", "awa@bank.example", "--role", "operator")
    out = capsys.readouterr().out
    password = out.split("password (shown once): ")[1].strip()
    client = Client()
    response = client.post("/admin/login/", {"username": "awa", "password": password, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    user = Group.objects.get(name="operator").user_set.get()
    assert (user.username, user.is_staff, user.is_superuser) == ("awa", True, False)
    assert AuditRecord.objects.filter(action="staff.created", target="user:awa", data={"role": "operator"}).exists()


def test_create_staff_user_json(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_staff_user", "--username", "bob", "--role", "auditor", "--json")
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"username", "password", "role"}
    assert (printed["username"], printed["role"]) == ("bob", "auditor")
    assert Group.objects.get(name="auditor").user_set.get().check_password(printed["password"])


def test_create_staff_user_refuses_an_unknown_role() -> None:
    expected = r"unknown role 'boss': expected one of operator, supervisor, auditor, admin"
    with pytest.raises(CommandError, match=expected):
        call_command("create_staff_user", "--username", "carl", "--role", "boss")
    assert not Group.objects.filter(user__username="carl").exists()
    assert not AuditRecord.objects.filter(action="staff.created").exists()


def test_create_staff_user_refuses_a_duplicate_username(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_staff_user", "--username", "dia", "--role", "operator", "--json")
    first = json.loads(capsys.readouterr().out)
    with pytest.raises(CommandError, match="a user named 'DIA' already exists"):
        call_command("create_staff_user", "--username", "DIA", "--role", "admin")
    user = Group.objects.get(name="operator").user_set.get(username="dia")
    assert user.check_password(first["password"]) and not user.groups.filter(name="admin").exists()
