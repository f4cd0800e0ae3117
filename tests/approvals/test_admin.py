"""The four-eyes console (approvals/admin.py): the request form opened from a link with
``?action=&target=``, the maker unable to decide, the checker approving, the result on the page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from approvals.models import ApprovalRequest
from ledger.models import Hold
from tests.approvals.conftest import unknown_cash_in

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_request_form_link_then_a_second_person_decides(maker, checker, live_partner) -> None:  # type: ignore[no-untyped-def]
    txn = unknown_cash_in(live_partner)
    add = reverse("admin:approvals_approvalrequest_add")
    as_maker, as_checker = signed_in(maker), signed_in(checker)
    form = as_maker.get(f"{add}?action=force_resolve&target={txn.public_id}").content.decode()
    assert f'value="{txn.public_id}"' in form and '<option value="force_resolve" selected>' in form

    sent = {
        "action": "force_resolve", "target": txn.public_id, "reason": "unknown for two days",
        "outcome": "succeeded", "evidence": "Wave statement line 42", "mode": "live", "currency": "XOF",
        "step": "rotate",
    }  # fmt: skip
    answer = as_maker.post(add, sent)
    approval = ApprovalRequest.objects.get()
    page = reverse("admin:approvals_approvalrequest_change", args=[approval.pk])
    assert answer.status_code == 302 and answer["Location"] == page
    assert 'id="decision-form"' not in as_maker.get(page).content.decode()  # the maker cannot decide
    decide = reverse("admin:approvals_approvalrequest_decide", args=[approval.pk])
    as_maker.post(decide, {"decision": "approve"})
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"

    assert 'id="decision-form"' in as_checker.get(page).content.decode()
    as_checker.post(decide, {"decision": "approve", "note": "statement checked"})
    approval.refresh_from_db()
    txn.refresh_from_db()
    assert (approval.status, approval.checker, txn.status) == ("executed", checker, "succeeded")
    assert Hold.objects.get(transaction=txn).status == "captured"
    assert as_maker.post(add, sent).status_code == 200  # not pending any more, but no longer resolvable
    assert ApprovalRequest.objects.count() == 1


def test_a_bad_request_is_shown_on_the_form_and_records_nothing(maker, live_partner) -> None:  # type: ignore[no-untyped-def]
    add = reverse("admin:approvals_approvalrequest_add")
    sent = {"action": "top_up", "target": live_partner.partner.code, "reason": "float", "amount": "-5", "mode": "live"}
    answer = signed_in(maker).post(add, {**sent, "currency": "XOF", "step": "rotate"})
    assert answer.status_code == 200 and "errornote" in answer.content.decode()
    assert not ApprovalRequest.objects.exists()
