"""Issue 6, batches in: POST /api/v1/banking/transfer-batches over real HTTP, credited through the
simulated core banking (outcomes by account number, sandbox/banks/outcomes.py), pain.002 out.

Crediting runs the real task functions in-process here (tests/e2e/test_banking_worker.py runs
them in a Celery worker subprocess)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import override_settings
from lxml import etree

from banking.demo import banking_sandbox_connect
from banking.iso20022.schemas import schema_for
from banking.models import TransferBatch, TransferBatchItem
from banking.tasks import bulk_credit_batch, poll_unresolved
from clients.python.addon_partner_client import AddonPartnerClient
from ledger.models import Account, Hold, OutboxEvent, Transaction
from ledger.selectors import ledger_check
from ledger.services import account_get_or_create_partner_account, account_get_or_create_system, posting_create
from partners.services import partner_create
from sandbox.services import effects_count
from tests.banking.builders import waemu_iban

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/api/v1/banking/transfer-batches"
XML = {"Content-Type": "application/xml"}
FUNDED = 1_000_000_000  # a test-mode partner account starts with this (docs/architecture.md §4)


@dataclass
class Bank:
    client: AddonPartnerClient
    partner: Any
    live_url: str


@pytest.fixture(name="bank")
def bank_fixture(live_server) -> Bank:  # type: ignore[no-untyped-def]
    banking_sandbox_connect(
        sandbox_url=live_server.url + "/sandbox/",
        callback_url=live_server.url + "/callbacks/partner-bank",
        settlement_delay_seconds=0.3,
        read_timeout_seconds=1.0,
    )
    created = partner_create(name="Banque Atlantique Test", mode="test", scopes=["banking.transfers"])
    return Bank(
        AddonPartnerClient(live_server.url, created.api_key, created.signing_secret), created.partner, live_server.url
    )


Tx = tuple[str, str, int]  # end_to_end_id, IBAN or RIB, amount (XOF)


def pain001(
    version: str,
    payments: Sequence[tuple[str, Sequence[Tx]]],
    *,
    msg_id: str = "MSG-0001",
    nb_of_txs: int | None = None,
    ctrl_sum: int | None = None,
    doctype: str = "",
) -> bytes:
    """A pain.001.001.03 or .09 document with the given payment informations and transactions."""
    v09 = version == "09"
    bic = "BICFI" if v09 else "BIC"
    all_txs = [tx for _, txs in payments for tx in txs]
    nb = len(all_txs) if nb_of_txs is None else nb_of_txs
    total = sum(tx[2] for tx in all_txs) if ctrl_sum is None else ctrl_sum
    date = "<ReqdExctnDt><Dt>2026-11-16</Dt></ReqdExctnDt>" if v09 else "<ReqdExctnDt>2026-11-16</ReqdExctnDt>"
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.{version}"><CstmrCdtTrfInitn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-15T08:30:00</CreDtTm><NbOfTxs>{nb}</NbOfTxs>"
        f"<CtrlSum>{total}</CtrlSum><InitgPty><Nm>Sahel Distribution</Nm></InitgPty></GrpHdr>"
    ]
    for pmt_inf_id, txs in payments:
        parts.append(
            f"<PmtInf><PmtInfId>{pmt_inf_id}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{len(txs)}</NbOfTxs>"
            f"<CtrlSum>{sum(tx[2] for tx in txs)}</CtrlSum>{date}<Dbtr><Nm>Sahel Distribution</Nm></Dbtr>"
            "<DbtrAcct><Id><IBAN>SN08SN0100152000048500003035</IBAN></Id></DbtrAcct>"
            f"<DbtrAgt><FinInstnId><{bic}>CBAOSNDA</{bic}></FinInstnId></DbtrAgt>"
        )
        for e2e, account, amount in txs:
            parts.append(
                f"<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>"
                f'<Amt><InstdAmt Ccy="XOF">{amount}</InstdAmt></Amt><Cdtr><Nm>Client {e2e}</Nm></Cdtr>'
                f"<CdtrAcct><Id><IBAN>{account}</IBAN></Id></CdtrAcct><RmtInf><Ustrd>Paie {e2e}</Ustrd></RmtInf>"
                "</CdtTrfTxInf>"
            )
        parts.append("</PmtInf>")
    parts.append("</CstmrCdtTrfInitn></Document>")
    return "".join(parts).encode()


def counts() -> tuple[int, int, int, int]:
    return (
        TransferBatch.objects.count(),
        TransferBatchItem.objects.count(),
        Transaction.objects.count(),
        OutboxEvent.objects.count(),
    )


def credit_all(batch_public_id: str) -> None:
    """Run the bulk credit task (the real code) chunk after chunk, in-process."""
    batch = TransferBatch.objects.get(public_id=batch_public_id)
    last: int | None = 0
    while last is not None:
        last = bulk_credit_batch(batch.pk, last)


def partner_balance(partner: Any) -> int:
    account = Account.objects.filter(partner=partner, mode="test", currency="XOF").first()
    return account.balance_minor if account else FUNDED


def partner_held(partner: Any) -> int:
    account = Account.objects.filter(partner=partner, mode="test", currency="XOF").first()
    return account.held_minor if account else 0


def core_banking_float() -> int:
    account = Account.objects.filter(kind="provider_float", provider="core_banking", mode="test").first()
    return account.balance_minor if account else 0


def credited(reference: str) -> int:
    return effects_count(provider="core_banking", reference=reference, effect="credit")


def report_statuses(xml: bytes, version: str) -> tuple[etree._Element, dict[str, tuple[str, str | None]]]:
    document = etree.fromstring(xml)
    schema_for(f"pain.002.001.{version}").assertValid(document)
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:pain.002.001.{version}"}
    statuses = {}
    for tx in document.iterfind(".//p:TxInfAndSts", ns):
        e2e = tx.findtext("p:OrgnlEndToEndId", namespaces=ns)
        statuses[e2e] = (tx.findtext("p:TxSts", namespaces=ns), tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=ns))
    return document, statuses


OUTCOMES_V03 = [
    ("E2E-OK-1", waemu_iban("000100002000"), 150_000),
    ("E2E-AC01", waemu_iban("000100000001"), 10_000),
    ("E2E-AC04", waemu_iban("000100000004"), 20_000),
    ("E2E-AC06", waemu_iban("000100000006"), 30_000),
    ("E2E-AM04", waemu_iban("000100009904"), 40_000),
    ("E2E-OK-2", waemu_iban("000100003000"), 60_000),
]


def test_v03_batch_is_credited_item_by_item_and_the_pain002_names_each_outcome(bank: Bank) -> None:
    body = pain001("03", [("PMT-A", OUTCOMES_V03[:4]), ("PMT-B", OUTCOMES_V03[4:])], msg_id="SAHEL-V03-1")
    before, float_before = partner_balance(bank.partner), core_banking_float()

    status, _, answer = bank.client.post(PATH, data=body, headers=XML, idempotency_key="k-v03-1")

    assert status == 202, answer
    assert answer["status"] == "received" and answer["msg_id"] == "SAHEL-V03-1"
    assert answer["id"].startswith("trb_") and answer["nb_of_txs"] == 6 and answer["ctrl_sum"] == "310000"
    assert answer["progress"]["total"] == 6 and answer["progress"]["pending"] == 6
    assert Transaction.objects.filter(kind="bank_transfer_in", status="pending").count() == 6
    # the sending bank PAYS (issue 6): the batch total is held on its account at acceptance
    assert (partner_balance(bank.partner), partner_held(bank.partner)) == (before, 310_000)
    assert ledger_check().is_ok
    credit_all(answer["id"])

    _, _, detail = bank.client.get(f"{PATH}/{answer['id']}")
    items = {item["end_to_end_id"]: item for item in detail["items"]}
    assert {e2e: (i["status"], i["reason_code"]) for e2e, i in items.items()} == {
        "E2E-OK-1": ("succeeded", None),
        "E2E-AC01": ("failed", "AC01"),
        "E2E-AC04": ("failed", "AC04"),
        "E2E-AC06": ("failed", "AC06"),
        "E2E-AM04": ("failed", "AM04"),
        "E2E-OK-2": ("succeeded", None),
    }
    assert detail["status"] == "completed"
    assert detail["progress"] == {
        "total": 6, "pending": 0, "succeeded": 2, "failed": 4, "credited": "210000", "rejected": "100000",
    }  # fmt: skip
    for e2e, item in items.items():
        assert credited(item["transaction_id"]) == (1 if item["status"] == "succeeded" else 0), e2e
    am04 = Transaction.objects.get(public_id=items["E2E-AM04"]["transaction_id"])
    assert am04.failure_code == "provider_insufficient_funds"
    # credited items capture their hold (partner -x, core-banking float +x); rejected ones are released
    assert (partner_balance(bank.partner), partner_held(bank.partner)) == (before - 210_000, 0)
    assert core_banking_float() == float_before + 210_000
    assert ledger_check().is_ok

    status, headers, xml = bank.client.get(f"{PATH}/{answer['id']}/status-report")
    assert status == 200 and headers["Content-Type"].startswith("application/xml")
    document, statuses = report_statuses(xml, "03")
    assert statuses == {
        "E2E-OK-1": ("ACSC", None),
        "E2E-AC01": ("RJCT", "AC01"),
        "E2E-AC04": ("RJCT", "AC04"),
        "E2E-AC06": ("RJCT", "AC06"),
        "E2E-AM04": ("RJCT", "AM04"),
        "E2E-OK-2": ("ACSC", None),
    }
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"}
    assert document.findtext(".//p:OrgnlGrpInfAndSts/p:OrgnlMsgId", namespaces=ns) == "SAHEL-V03-1"
    assert document.findtext(".//p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=ns) == "PART"
    assert [e.text for e in document.iterfind(".//p:OrgnlPmtInfAndSts/p:PmtInfSts", ns)] == ["PART", "PART"]


@override_settings(SANDBOX_HANG_SECONDS=1.5)
def test_v09_batch_with_a_lost_answer_is_resolved_by_the_poller(bank: Bank) -> None:
    txs = [
        ("E2E-V9-OK", waemu_iban("000200001000"), 70_000),
        ("E2E-V9-LOST", waemu_iban("000200009902"), 80_000),  # the core posts it, the answer times out
        ("E2E-V9-AC04", waemu_iban("000200000004"), 90_000),
        ("E2E-V9-5XX", waemu_iban("000200009903"), 50_000),  # 503 once: an unknown outcome to the client
    ]
    status, _, answer = bank.client.post(
        PATH, data=pain001("09", [("PMT-9", txs)], msg_id="SAHEL-V09-1"), headers=XML, idempotency_key="k-v09"
    )
    assert status == 202, answer
    credit_all(answer["id"])
    lost = TransferBatchItem.objects.select_related("transaction").get(end_to_end_id="E2E-V9-LOST")
    assert lost.transaction.status == "unknown"  # never failed: the credit may be posted
    flaky = TransferBatchItem.objects.select_related("transaction").get(end_to_end_id="E2E-V9-5XX")
    assert flaky.transaction.status == "unknown" and credited(flaky.transaction.public_id) == 0
    assert TransferBatch.objects.get(public_id=answer["id"]).status == "processing"

    time.sleep(2.1)  # the first status query is due 2 s after the lost answer
    assert poll_unresolved() == {"credits": 2, "transfers": 0}

    lost.transaction.refresh_from_db()
    assert lost.transaction.status == "succeeded" and credited(lost.transaction.public_id) == 1
    flaky.transaction.refresh_from_db()  # the core never had it (NOT_FOUND): sent again, same reference
    assert flaky.transaction.status == "succeeded" and credited(flaky.transaction.public_id) == 1
    _, _, xml = bank.client.get(f"{PATH}/{answer['id']}/status-report")
    _, statuses = report_statuses(xml, "10")
    assert statuses == {
        "E2E-V9-OK": ("ACSC", None),
        "E2E-V9-LOST": ("ACSC", None),
        "E2E-V9-AC04": ("RJCT", "AC04"),
        "E2E-V9-5XX": ("ACSC", None),
    }
    assert TransferBatch.objects.get(public_id=answer["id"]).status == "completed"
    assert ledger_check().is_ok


def test_a_json_batch_is_the_same_batch(bank: Bank) -> None:
    document = {
        "msg_id": "SAHEL-JSON-1",
        "creation_datetime": "2026-11-15T08:30:00Z",
        "nb_of_txs": 2,
        "ctrl_sum": "35000",
        "initiating_party": "Sahel Distribution",
        "payment_infos": [
            {
                "pmt_inf_id": "PMT-J",
                "nb_of_txs": 2,
                "ctrl_sum": "35000",
                "requested_execution_date": "2026-11-16",
                "debtor_name": "Sahel Distribution",
                "debtor_account": "SN08SN0100152000048500003035",
                "transactions": [
                    {"end_to_end_id": "E2E-J-1", "amount": "15000", "currency": "XOF",
                     "creditor_name": "Awa Sow", "creditor_account": waemu_iban("000300001000")},
                    {"end_to_end_id": "E2E-J-2", "amount": "20000", "currency": "XOF",
                     "creditor_name": "Moussa Diop", "creditor_account": waemu_iban("000300000006")},
                ],
            }
        ],
    }  # fmt: skip
    status, _, answer = bank.client.post(PATH, json=document, idempotency_key="k-json")
    assert status == 202, answer
    assert answer["message_name"] == "json" and answer["nb_of_txs"] == 2
    credit_all(answer["id"])
    _, _, xml = bank.client.get(f"{PATH}/{answer['id']}/status-report")
    _, statuses = report_statuses(xml, "10")
    assert statuses == {"E2E-J-1": ("ACSC", None), "E2E-J-2": ("RJCT", "AC06")}


GOOD = [("E2E-G-1", waemu_iban("000400001000"), 1_000), ("E2E-G-2", waemu_iban("000400002000"), 2_000)]
BAD_IBAN = waemu_iban("000400003000")[:-1] + ("0" if waemu_iban("000400003000")[-1] != "0" else "1")
AX, REFUSED = "application/xml", "validation_error"
TX3 = "PmtInf[1]/CdtTrfTxInf[3]"
DUP = ("E2E-G-1", GOOD[0][1], 5)
XXE = '<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status", "code", "field"),
    [
        ("ctrl_sum", pain001("03", [("P", GOOD)], ctrl_sum=3_001), AX, 422, REFUSED, "GrpHdr/CtrlSum"),
        ("nb_of_txs", pain001("03", [("P", GOOD)], nb_of_txs=3), AX, 422, REFUSED, "GrpHdr/NbOfTxs"),
        ("iban", pain001("09", [("P", [*GOOD, ("E2E-G-3", BAD_IBAN, 5)])]), AX, 422, REFUSED, f"{TX3}/CdtrAcct/Id"),
        ("dup_e2e", pain001("03", [("P", [*GOOD, DUP])]), AX, 422, REFUSED, f"{TX3}/PmtId/EndToEndId"),
        ("xxe", pain001("03", [("P", GOOD)], doctype=XXE), "application/xml", 400, "parse_error", None),
        ("not_xml", b"MsgId;Amount\nSAHEL;1000\n", "application/xml", 400, "parse_error", None),
        ("not_json", b"{not json", "application/json", 400, "parse_error", None),
        ("media_type", b"MsgId;Amount", "text/csv", 415, "unsupported_media_type", None),
    ],
)  # fmt: skip
def test_a_refused_batch_creates_nothing(
    bank: Bank, case: str, body: bytes, content_type: str, status: int, code: str, field: str | None
) -> None:
    before = counts()
    answer_status, headers, answer = bank.client.post(
        PATH, data=body, headers={"Content-Type": content_type}, idempotency_key=f"k-{case}"
    )
    assert (answer_status, answer["code"]) == (status, code), answer
    assert headers["Content-Type"] == "application/problem+json"
    if field:
        assert field in [error["field"] for error in answer["errors"]], answer["errors"]
    assert counts() == before
    assert partner_balance(bank.partner) == FUNDED


def test_a_batch_over_the_available_balance_is_422_insufficient_funds_and_creates_nothing(bank: Bank) -> None:
    """Prefunding (issue 6): the whole total must fit the sending bank's available balance."""
    account = account_get_or_create_partner_account(partner=bank.partner, mode="test", currency="XOF")
    external = account_get_or_create_system(kind="external", provider="test-spend", mode="test", currency="XOF")
    posting_create(lines=[(account, -(FUNDED - 2_500)), (external, FUNDED - 2_500)], description="test: spent")
    before = counts()

    status, headers, answer = bank.client.post(
        PATH, data=pain001("03", [("P", GOOD)], msg_id="SAHEL-BROKE"), headers=XML, idempotency_key="k-broke"
    )  # 1,000 + 2,000 = 3,000 XOF against 2,500 available

    assert (status, answer["code"]) == (422, "insufficient_funds"), answer
    assert headers["Content-Type"] == "application/problem+json"
    assert counts() == before
    assert (partner_balance(bank.partner), partner_held(bank.partner)) == (2_500, 0)
    assert not Hold.objects.filter(account=account).exists()
    assert ledger_check().is_ok
    # the same total within the balance is accepted, and held whole
    fitting = [GOOD[0], ("E2E-G-2", GOOD[1][1], 1_500)]
    status, _, answer = bank.client.post(
        PATH, data=pain001("03", [("P", fitting)], msg_id="SAHEL-FITS"), headers=XML, idempotency_key="k-fits"
    )
    assert status == 202, answer
    assert (partner_balance(bank.partner), partner_held(bank.partner)) == (2_500, 2_500)
    assert Hold.objects.filter(account=account, status="placed").count() == 2
    assert ledger_check().is_ok


def test_the_xxe_is_refused_as_a_forbidden_construct_without_reading_the_file(bank: Bank) -> None:
    _, _, answer = bank.client.post(
        PATH, data=pain001("03", [("P", GOOD)], doctype=XXE), headers=XML, idempotency_key="k-xxe-2"
    )
    assert answer["title"] == "Forbidden XML construct"
    assert "root:" not in str(answer)


def test_a_file_over_the_size_limit_is_413_against_our_limit_and_creates_nothing(bank: Bank) -> None:
    body = pain001("03", [("P", GOOD)])
    before = counts()
    with override_settings(BANKING_BATCH_MAX_BYTES=len(body) - 1):  # under Django's limit: our check answers
        status, _, answer = bank.client.post(PATH, data=body, headers=XML, idempotency_key="k-big-1")
    assert (status, answer["code"]) == (413, "payload_too_large"), answer
    assert f"{len(body) - 1:,}-byte limit" in answer["detail"]
    limit = len(body) - 1
    with override_settings(BANKING_BATCH_MAX_BYTES=limit, DATA_UPLOAD_MAX_MEMORY_SIZE=limit):  # as configured
        status, _, answer = bank.client.post(PATH, data=body, headers=XML, idempotency_key="k-big-2")
    assert (status, answer["code"]) == (413, "payload_too_large"), answer
    assert counts() == before


def test_the_default_limits_take_a_10000_transaction_file(settings: Any) -> None:
    from tests.banking.builders import pain001_v03

    size = len(pain001_v03(10_000))
    assert size < settings.BANKING_BATCH_MAX_BYTES <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_the_same_msg_id_twice_is_409_pointing_at_the_first_batch(bank: Bank) -> None:
    body = pain001("03", [("P", GOOD)], msg_id="SAHEL-DUP")
    status, _, first = bank.client.post(PATH, data=body, headers=XML, idempotency_key="k-dup-1")
    assert status == 202
    before = counts()

    status, _, replay = bank.client.request(  # another signature time: not a replay of the signed request
        "POST", PATH, data=body, headers=XML, idempotency_key="k-dup-1", t=int(time.time()) + 1
    )
    assert status == 202 and replay["id"] == first["id"]  # the same request again: the stored answer
    status, _, answer = bank.client.request(
        "POST", PATH, data=body, headers=XML, idempotency_key="k-dup-2", t=int(time.time()) + 2
    )

    assert (status, answer["code"], answer["batch_id"]) == (409, "duplicate", first["id"])
    assert first["id"] in answer["detail"]
    assert counts() == before


def test_items_are_paginated_and_filtered(bank: Bank) -> None:
    txs = [(f"E2E-P-{i}", waemu_iban(f"0005{i:08d}"), 1_000) for i in range(1, 6)]
    _, _, answer = bank.client.post(PATH, data=pain001("03", [("P", txs)]), headers=XML, idempotency_key="k-page")
    url = f"{PATH}/{answer['id']}"
    _, _, page1 = bank.client.get(url, params={"limit": 2})
    _, _, page2 = bank.client.get(url, params={"limit": 2, "cursor": page1["next_cursor"]})
    _, _, page3 = bank.client.get(url, params={"limit": 2, "cursor": page2["next_cursor"]})
    seen = [i["end_to_end_id"] for page in (page1, page2, page3) for i in page["items"]]
    assert seen == [tx[0] for tx in txs] and page3["next_cursor"] is None
    _, _, pending = bank.client.get(url, params={"status": "succeeded"})
    assert pending["items"] == []
    status, _, _ = bank.client.get(f"{PATH}/trb_00000000000000000000000000")
    assert status == 404


def test_the_banking_scope_is_required(bank: Bank, live_server) -> None:  # type: ignore[no-untyped-def]
    created = partner_create(name="Wallet Only", mode="test", scopes=["mobile_money.cash_in"])
    client = AddonPartnerClient(live_server.url, created.api_key, created.signing_secret)
    before = counts()
    status, _, answer = client.post(PATH, data=pain001("03", [("P", GOOD)]), headers=XML, idempotency_key="k-scope")
    assert (status, answer["code"]) == (403, "scope_missing")
    assert counts() == before


def test_the_ops_console_lists_batches_items_transfers_and_callbacks(bank: Bank, staff_client) -> None:  # type: ignore[no-untyped-def]
    status, _, answer = bank.client.post(PATH, data=pain001("03", [("P", GOOD)]), headers=XML, idempotency_key="k-adm")
    assert status == 202
    batch = TransferBatch.objects.get(public_id=answer["id"])
    for model in ("transferbatch", "transferbatchitem", "banktransfer", "bankcallback"):
        response = staff_client.get(f"/admin/banking/{model}/")
        assert response.status_code == 200, model
    assert answer["id"] in staff_client.get("/admin/banking/transferbatch/").content.decode()
    assert staff_client.get(f"/admin/banking/transferbatch/{batch.pk}/change/").status_code == 200
    assert staff_client.get("/admin/banking/transferbatch/add/").status_code == 403


def test_a_10000_transaction_file_is_accepted_over_http_in_one_request(bank: Bank) -> None:
    from tests.banking.builders import pain001_v03

    status, _, answer = bank.client.post(
        PATH, data=pain001_v03(10_000, msg_id="SAHEL-10K"), headers=XML, idempotency_key="k-10k"
    )
    assert status == 202, answer
    assert (answer["nb_of_txs"], answer["ctrl_sum"], answer["progress"]["pending"]) == (10_000, "10000000", 10_000)
    assert TransferBatchItem.objects.filter(batch__public_id=answer["id"]).count() == 10_000
    assert Transaction.objects.filter(kind="bank_transfer_in", status="pending").count() == 10_000
    assert OutboxEvent.objects.filter(type="transaction.created").count() == 10_000
    # one conditional reserve of the total, one hold row per item (ledger.services.transactions_create_bulk)
    assert Hold.objects.filter(transaction__kind="bank_transfer_in", status="placed").count() == 10_000
    assert (partner_balance(bank.partner), partner_held(bank.partner)) == (FUNDED, 10_000_000)
    assert ledger_check().is_ok
