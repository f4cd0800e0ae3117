"""The console for a read-only role: an auditor reads every page and changes nothing
(docs/staff-security.md §1). Iterates over the admin's registry, so models added later are covered."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from backoffice.models import AuditRecord

pytestmark = pytest.mark.django_db


def admin_urls(name: str) -> list[tuple[str, str]]:
    """(model label, URL) of one admin view of every registered model."""
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append((f"{info[0]}.{info[1]}", reverse(f"admin:{info[0]}_{info[1]}_{name}", args=_args(name))))
    return urls


def _args(name: str) -> tuple[str, ...]:
    return ("1",) if name in ("change", "delete", "history") else ()


def test_the_registry_is_not_empty() -> None:
    labels = {label for label, _ in admin_urls("changelist")}
    assert {"partners.partner", "backoffice.auditrecord", "auth.user"} <= labels


def test_an_auditor_reads_every_list(signed_in: Callable[[str], Client]) -> None:
    auditor = signed_in("auditor")
    refused = {label: code for label, url in admin_urls("changelist") if (code := auditor.get(url).status_code) != 200}
    assert refused == {}


def test_an_auditor_is_refused_every_add_page(signed_in: Callable[[str], Client]) -> None:
    auditor = signed_in("auditor")
    allowed = {label: code for label, url in admin_urls("add") if (code := auditor.get(url).status_code) != 403}
    assert allowed == {}


@pytest.mark.parametrize("view", ["add", "change", "delete", "changelist"])
def test_an_auditor_is_refused_every_post(view: str, signed_in: Callable[[str], Client]) -> None:
    auditor = signed_in("auditor")
    # on a list, every action a model admin offers (delete_selected and the apps' own), on row 1
    body = {"action": "delete_selected", "_selected_action": ["1"], "post": "yes", "index": "0"}
    allowed = {label: code for label, url in admin_urls(view) if (code := auditor.post(url, body).status_code) != 403}
    assert allowed == {}


def test_an_auditor_may_sign_out(signed_in: Callable[[str], Client]) -> None:
    auditor = signed_in("auditor")
    assert auditor.post(reverse("admin:logout")).status_code == 200
    assert "_auth_user_id" not in auditor.session


def test_nobody_adds_changes_or_deletes_an_audit_record(staff_client: Client) -> None:
    record = AuditRecord.objects.get(action="auth.login")
    assert staff_client.get(reverse("admin:backoffice_auditrecord_add")).status_code == 403
    assert staff_client.get(reverse("admin:backoffice_auditrecord_change", args=[record.pk])).status_code == 200
    assert staff_client.post(reverse("admin:backoffice_auditrecord_change", args=[record.pk]), {}).status_code == 403
    assert (
        staff_client.post(reverse("admin:backoffice_auditrecord_delete", args=[record.pk]), {"post": "yes"}).status_code
        == 403
    )
    changelist = reverse("admin:backoffice_auditrecord_changelist")
    staff_client.post(changelist, {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})
    assert AuditRecord.objects.filter(pk=record.pk, action="auth.login").exists()


def test_the_audit_log_filters_by_action_actor_and_date_and_searches_by_target(
    signed_in: Callable[[str], Client],
) -> None:
    auditor = signed_in("auditor")
    changelist = reverse("admin:backoffice_auditrecord_changelist")
    page = auditor.get(changelist, {"action": "auth.login", "actor_username": "auditor-user", "q": "user:auditor"})
    assert page.status_code == 200
    assert [r.action for r in page.context["cl"].result_list] == ["auth.login"]
    assert auditor.get(changelist, {"created_at__year": "2001"}).context["cl"].result_count == 0


def test_an_operator_does_not_read_the_audit_log(signed_in: Callable[[str], Client]) -> None:
    operator = signed_in("operator")
    assert operator.get(reverse("admin:backoffice_auditrecord_changelist")).status_code == 403
