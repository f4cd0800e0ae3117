"""pain.002 status reports: group, payment-information and transaction statuses with ISO reason
codes, valid against the official pain.002.001.03 and .10 XSDs (checked independently here)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from banking.iso20022 import (
    GroupStatus,
    MessageRejected,
    StatusReason,
    TransactionStatus,
    TransactionStatusReport,
    derive_status,
    parse_pain001_xml,
    rejection_report,
    render_pain002,
    report_for_message,
)
from banking.iso20022.schemas import XSD_DIR
from tests.banking.builders import fixture

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
S = TransactionStatus


def official_schema(message_name: str) -> etree.XMLSchema:
    """Compiled here, from the file, independently of the cached schemas of the code under test."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"{message_name}.xsd")))


def parsed(xml: bytes, message_name: str) -> tuple[etree._Element, dict[str, str]]:
    document = etree.fromstring(xml)
    schema = official_schema(message_name)
    assert schema.validate(document), schema.error_log
    return document, {"p": f"urn:iso:std:iso:20022:tech:xsd:{message_name}"}


def outcomes() -> dict[str, TransactionStatusReport]:
    return {
        "E2E-PAYROLL-0001": TransactionStatusReport(
            "E2E-PAYROLL-0001",
            S.ACCEPTED_SETTLEMENT_COMPLETED,
            instr_id="I-0001",
            acceptance_datetime=NOW,
            account_servicer_reference="CBS-0000000001",
            amount_minor=100000,
        ),
        "E2E-PAYROLL-0002": TransactionStatusReport(
            "E2E-PAYROLL-0002",
            S.REJECTED,
            instr_id="I-0002",
            reasons=(StatusReason("AC04", "Account closed"),),
            amount_minor=150000,
        ),
        "E2E-PAYROLL-0003": TransactionStatusReport(
            "E2E-PAYROLL-0003", S.REJECTED, reasons=(StatusReason("AC06"),), amount_minor=100000
        ),
        "E2E-SUPPLIER-0001": TransactionStatusReport(
            "E2E-SUPPLIER-0001", S.ACCEPTED_SETTLEMENT_COMPLETED, instr_id="I-0004", amount_minor=75000
        ),
    }


@pytest.mark.parametrize("message_name", ["pain.002.001.03", "pain.002.001.10"])
def test_status_report_of_a_batch_is_schema_valid_with_every_level_of_status(message_name: str) -> None:
    message = parse_pain001_xml(fixture("waemu_pain001v03_2pmtinf_4tx.xml"))
    report = report_for_message(message, outcomes(), msg_id="STS-20261102-0001", created_at=NOW,
                                initiating_party_name="Addon Partner Bank")  # fmt: skip
    document, ns = parsed(render_pain002(report, message_name=message_name), message_name)

    def text(path: str) -> list[str]:
        return [e.text for e in document.iterfind("p:CstmrPmtStsRpt/" + path, namespaces=ns)]

    assert text("p:GrpHdr/p:MsgId") == ["STS-20261102-0001"]
    assert text("p:GrpHdr/p:InitgPty/p:Nm") == ["Addon Partner Bank"]
    assert text("p:OrgnlGrpInfAndSts/p:OrgnlMsgId") == ["BATCH-20261101-0001"]
    assert text("p:OrgnlGrpInfAndSts/p:OrgnlMsgNmId") == ["pain.001.001.03"]
    assert text("p:OrgnlGrpInfAndSts/p:OrgnlNbOfTxs") == ["4"]
    assert text("p:OrgnlGrpInfAndSts/p:OrgnlCtrlSum") == ["425000"]
    assert text("p:OrgnlGrpInfAndSts/p:GrpSts") == ["PART"]
    assert text("p:OrgnlGrpInfAndSts/p:NbOfTxsPerSts/p:DtldSts") == ["ACSC", "RJCT"]
    assert text("p:OrgnlGrpInfAndSts/p:NbOfTxsPerSts/p:DtldNbOfTxs") == ["2", "2"]
    assert text("p:OrgnlGrpInfAndSts/p:NbOfTxsPerSts/p:DtldCtrlSum") == ["175000", "250000"]
    assert text("p:OrgnlPmtInfAndSts/p:OrgnlPmtInfId") == ["PAYROLL-2026-10", "SUPPLIERS-2026-11"]
    assert text("p:OrgnlPmtInfAndSts/p:PmtInfSts") == ["PART", "ACSC"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:OrgnlEndToEndId") == list(outcomes())
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:TxSts") == ["ACSC", "RJCT", "RJCT", "ACSC"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == ["AC04", "AC06"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:StsRsnInf/p:AddtlInf") == ["Account closed"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:AcctSvcrRef") == ["CBS-0000000001"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:OrgnlTxRef/p:Amt/p:InstdAmt") == [
        "100000",
        "150000",
        "100000",
        "75000",
    ]


def test_transactions_without_outcome_are_pending() -> None:
    message = parse_pain001_xml(fixture("waemu_pain001v09_2pmtinf_3tx.xml"))
    report = report_for_message(message, {}, msg_id="STS-2", created_at=NOW)
    document, ns = parsed(render_pain002(report, message_name="pain.002.001.10"), "pain.002.001.10")
    assert document.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=ns) == "PDNG"
    assert document.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:OrgnlMsgNmId", namespaces=ns) == "pain.001.001.09"


def test_rejection_report_of_a_batch_refused_by_the_checks() -> None:
    body = (
        fixture("waemu_pain001v03_2pmtinf_4tx.xml")
        .replace(b"<CtrlSum>425000</CtrlSum>", b"<CtrlSum>425001</CtrlSum>")
        .replace(b"<CtrlSum>75000</CtrlSum>", b"<CtrlSum>75001</CtrlSum>")
        .replace(b"SN08SN0100152000010000123460", b"SN08SN0100152000010000123461")
        .replace(b"E2E-SUPPLIER-0001", b"E2E-PAYROLL-0002")
    )
    with pytest.raises(MessageRejected) as caught:
        parse_pain001_xml(body)
    report = rejection_report(caught.value, msg_id="STS-3", created_at=NOW)
    document, ns = parsed(render_pain002(report), "pain.002.001.03")

    def text(path: str) -> list[str]:
        return [e.text for e in document.iterfind("p:CstmrPmtStsRpt/" + path, namespaces=ns)]

    assert text("p:OrgnlGrpInfAndSts/p:GrpSts") == ["RJCT"]
    assert text("p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == ["AM10"]
    assert text("p:OrgnlGrpInfAndSts/p:StsRsnInf/p:AddtlInf") == [
        "GrpHdr/CtrlSum: CtrlSum is 425001 but the transactions add up to 425000."
    ]
    assert text("p:OrgnlPmtInfAndSts/p:OrgnlPmtInfId") == ["PAYROLL-2026-10", "SUPPLIERS-2026-11"]
    assert text("p:OrgnlPmtInfAndSts/p:PmtInfSts") == ["RJCT", "RJCT"]
    assert text("p:OrgnlPmtInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == ["AM10"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:OrgnlEndToEndId") == ["E2E-PAYROLL-0001", "E2E-PAYROLL-0002"]
    assert text("p:OrgnlPmtInfAndSts/p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == ["AC01", "DUPL"]


def test_long_additional_information_is_split_into_105_character_lines() -> None:
    message = parse_pain001_xml(fixture("waemu_pain001v09_2pmtinf_3tx.xml"))
    reason = StatusReason("MS03", "x" * 250)
    report = report_for_message(
        message, {"E2E-HV-0001": TransactionStatusReport("E2E-HV-0001", S.REJECTED, reasons=(reason,))},
        msg_id="STS-4", created_at=NOW,
    )  # fmt: skip
    document, ns = parsed(render_pain002(report), "pain.002.001.03")
    lines = [e.text for e in document.iterfind(".//p:AddtlInf", namespaces=ns)]
    assert [len(line) for line in lines] == [105, 105, 40]


@pytest.mark.parametrize(
    ("statuses", "group"),
    [
        ([S.ACCEPTED_SETTLEMENT_COMPLETED, S.ACCEPTED_SETTLEMENT_COMPLETED], GroupStatus.ACCEPTED_SETTLEMENT_COMPLETED),
        ([S.ACCEPTED_SETTLEMENT_COMPLETED, S.ACCEPTED], GroupStatus.ACCEPTED),
        ([S.REJECTED, S.REJECTED], GroupStatus.REJECTED),
        ([S.REJECTED, S.ACCEPTED_SETTLEMENT_COMPLETED], GroupStatus.PARTIALLY_ACCEPTED),
        ([S.PENDING, S.ACCEPTED_SETTLEMENT_COMPLETED], GroupStatus.PENDING),
        ([S.ACCEPTED_TECHNICAL], GroupStatus.ACCEPTED_TECHNICAL),
    ],
)
def test_group_status_is_derived_from_the_transactions(statuses: list[TransactionStatus], group: GroupStatus) -> None:
    assert derive_status(statuses) is group


def test_reason_codes_are_iso_shaped() -> None:
    with pytest.raises(ValueError, match="1 to 4 capitals or digits"):
        StatusReason("closed")
    with pytest.raises(ValueError, match="at least one"):
        derive_status([])
