"""Transfers out: the pacs.008 we send is schema-valid; the pacs.002 answers parse into statuses
that never turn an unknown code into a final state."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from banking.iso20022 import Pacs008Transfer, SchemaViolation, parse_pacs002, render_pacs008
from banking.iso20022.schemas import validation_errors
from banking.providers.base import TransferState
from banking.providers.partner_bank import status_of, statuses_of
from core.money import Money
from tests.banking.builders import fixture

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"}


def transfer(**changes: object) -> Pacs008Transfer:
    values: dict[str, object] = {
        "msg_id": "txn_01JD3W0000000000000000001",
        "created_at": datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        "instr_id": "txn_01JD3W0000000000000000001",
        "end_to_end_id": "E2E-OUT-0001",
        "tx_id": "txn_01JD3W0000000000000000001",
        "amount": Money(75_000_000, "XOF"),
        "settlement_date": date(2026, 11, 2),
        "clearing_system": "STAR-UEMOA",
        "debtor_name": "ACME SARL",
        "debtor_account": "SN08SN0100152000048500003035",
        "debtor_agent_bic": "CBAOSNDA",
        "creditor_agent_bic": "ECOCSNDA",
        "creditor_name": "Grands Moulins de Dakar",
        "creditor_account": "SN0480101020000006789028",
        "remittance_information": "Facture 2026-11-007",
    }
    values.update(changes)
    return Pacs008Transfer(**values)  # type: ignore[arg-type]


def test_pacs008_is_schema_valid_and_carries_the_settlement_system() -> None:
    document = etree.fromstring(render_pacs008(transfer()))
    assert validation_errors(document, "pacs.008.001.08") == []

    def text(path: str) -> str:
        return document.findtext(path, namespaces=NS)

    assert text("p:FIToFICstmrCdtTrf/p:GrpHdr/p:MsgId") == "txn_01JD3W0000000000000000001"
    assert text("p:FIToFICstmrCdtTrf/p:GrpHdr/p:SttlmInf/p:SttlmMtd") == "CLRG"
    assert text("p:FIToFICstmrCdtTrf/p:GrpHdr/p:SttlmInf/p:ClrSys/p:Prtry") == "STAR-UEMOA"
    tx = "p:FIToFICstmrCdtTrf/p:CdtTrfTxInf/"
    assert text(tx + "p:PmtTpInf/p:ClrChanl") == "RTGS"
    assert text(tx + "p:PmtId/p:EndToEndId") == "E2E-OUT-0001"
    assert text(tx + "p:IntrBkSttlmAmt") == "75000000"
    assert document.find(tx + "p:IntrBkSttlmAmt", namespaces=NS).get("Ccy") == "XOF"
    assert text(tx + "p:DbtrAcct/p:Id/p:IBAN") == "SN08SN0100152000048500003035"
    assert text(tx + "p:CdtrAcct/p:Id/p:Othr/p:Id") == "SN0480101020000006789028"  # a RIB
    assert text(tx + "p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry") == "RIB"
    assert text(tx + "p:RmtInf/p:Ustrd") == "Facture 2026-11-007"


def test_clearing_transfers_use_the_mass_payment_channel() -> None:
    document = etree.fromstring(render_pacs008(transfer(clearing_system="SICA-UEMOA", amount=Money(50_000, "XOF"))))
    assert document.findtext("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf/p:PmtTpInf/p:ClrChanl", namespaces=NS) == "MPNS"
    with pytest.raises(ValueError, match="unknown clearing system"):
        render_pacs008(transfer(clearing_system="TARGET2"))


def test_pacs002_v10_with_two_transactions() -> None:
    report = parse_pacs002(fixture("pacs002v10_partner_2tx_acsc_rjct-ac04.xml"))
    assert (report.message_name, report.msg_id) == ("pacs.002.001.10", "PBSTS-20261102-0007")
    assert report.creation_datetime == datetime(2026, 11, 2, 10, 15, tzinfo=UTC)
    assert report.original_message_name == "pacs.008.001.08"
    settled, rejected = report.transactions
    assert (settled.original_tx_id, settled.status, settled.account_servicer_reference) == (
        "txn_01JD3W0000000000000000001",
        "ACSC",
        "PB-0000000042",
    )
    assert settled.acceptance_datetime == datetime(2026, 11, 2, 10, 14, 58, tzinfo=UTC)
    assert (rejected.status, rejected.reasons[0].code) == ("RJCT", "AC04")
    assert rejected.reasons[0].additional_information == "Beneficiary account closed"

    statuses = statuses_of(report)
    assert [(s.reference, s.status, s.reason_code) for s in statuses] == [
        ("txn_01JD3W0000000000000000001", TransferState.SETTLED, None),
        ("txn_01JD3W0000000000000000002", TransferState.REJECTED, "AC04"),
    ]
    assert statuses[1].reason_text == "Beneficiary account closed"
    assert {s.status_message_id for s in statuses} == {"PBSTS-20261102-0007"}


def test_pacs002_v03_group_rejection_speaks_for_the_original_message() -> None:
    report = parse_pacs002(fixture("pacs002v03_grp-rjct_ff01.xml"))
    assert (report.group_status, report.transactions) == ("RJCT", ())
    (status,) = statuses_of(report)
    assert (status.reference, status.status, status.reason_code) == (
        "txn_01JD3W0000000000000000003",
        TransferState.REJECTED,
        "FF01",
    )


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("ACSC", TransferState.SETTLED),
        ("ACCC", TransferState.SETTLED),
        ("ACSP", TransferState.ACCEPTED),
        ("ACTC", TransferState.ACCEPTED),
        ("PDNG", TransferState.PENDING),
        ("RJCT", TransferState.REJECTED),
        ("XXXX", TransferState.PENDING),  # unknown: never guessed final
        (None, TransferState.PENDING),
    ],
)
def test_status_codes_map_without_guessing(code: str | None, state: TransferState) -> None:
    assert status_of(code) is state


def test_an_invalid_pacs002_is_refused() -> None:
    body = fixture("pacs002v10_partner_2tx_acsc_rjct-ac04.xml").replace(
        b"<TxSts>ACSC</TxSts>", b"<TxSts>SETTLED</TxSts>"
    )
    with pytest.raises(SchemaViolation) as caught:
        parse_pacs002(body)
    assert caught.value.errors[0].message.startswith("Element 'TxSts': [facet 'maxLength']")
