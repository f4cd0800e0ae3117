"""Reading pain.001.001.03 and .09: our WAEMU files and the official samples parse into exact
dataclasses; every business-rule failure is reported with its place and ISO reason code."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from banking.iso20022 import (
    DEFAULT_RULES,
    AccountId,
    AccountScheme,
    CreditTransfer,
    MessageRejected,
    Pain001Rules,
    ReasonCode,
    SchemaViolation,
    UnsupportedMessage,
    parse_pain001_xml,
)
from core.money import Money
from tests.banking.builders import fixture

V03 = fixture("waemu_pain001v03_2pmtinf_4tx.xml")
V09 = fixture("waemu_pain001v09_2pmtinf_3tx.xml")
FOREIGN = Pain001Rules(currencies=frozenset({"EUR", "USD"}), waemu_accounts=False)


def problems_of(body: bytes, rules: Pain001Rules = DEFAULT_RULES) -> list[tuple[str, str, str]]:
    with pytest.raises(MessageRejected) as caught:
        parse_pain001_xml(body, rules=rules)
    assert caught.value.status == 422
    assert [(e.field, e.message) for e in caught.value.errors] == [(p.field, p.message) for p in caught.value.problems]
    return [(p.field, p.message, p.reason_code.value) for p in caught.value.problems]


def test_waemu_v03_file_with_two_payment_infos_parses_exactly() -> None:
    message = parse_pain001_xml(V03)
    assert message.message_name == "pain.001.001.03"
    assert message.msg_id == "BATCH-20261101-0001"
    assert message.creation_datetime == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert (message.nb_of_txs, message.ctrl_sum_minor, message.total) == (4, 425000, Money(425000, "XOF"))
    assert message.initiating_party == "ACME SARL"
    payroll, suppliers = message.payment_infos
    assert (payroll.pmt_inf_id, payroll.nb_of_txs, payroll.ctrl_sum_minor) == ("PAYROLL-2026-10", 3, 350000)
    assert payroll.requested_execution_date == date(2026, 11, 2)
    assert payroll.debtor_account == AccountId(AccountScheme.IBAN, "SN08SN0100152000048500003035")
    assert (payroll.debtor_name, payroll.debtor_agent_bic) == ("ACME SARL", "CBAOSNDA")
    assert payroll.transactions[0] == CreditTransfer(
        instr_id="I-0001",
        end_to_end_id="E2E-PAYROLL-0001",
        amount=Money(100000, "XOF"),
        creditor_name="Awa Sow",
        creditor_account=AccountId(AccountScheme.IBAN, "SN08SN0100152000010000123460"),
        creditor_agent_bic="CBAOSNDA",
        remittance_information="Salaire 10/2026",
    )
    rib_transfer = payroll.transactions[1]
    assert rib_transfer.creditor_account == AccountId(AccountScheme.OTHER, "SN0100100110000001234588")
    assert rib_transfer.remittance_information == "Salaire 10/2026 Prime"
    assert payroll.transactions[2].instr_id is None
    assert payroll.transactions[2].creditor_agent_bic is None
    assert suppliers.transactions[0].creditor_name == "Transports Fall & Fils"
    assert suppliers.transactions[0].remittance_information == "FACT-2026-0042"  # Strd/CdtrRefInf/Ref
    assert [t.end_to_end_id for _p, t in message.transactions()] == [
        "E2E-PAYROLL-0001",
        "E2E-PAYROLL-0002",
        "E2E-PAYROLL-0003",
        "E2E-SUPPLIER-0001",
    ]


def test_waemu_v09_file_reads_bicfi_dates_uetr_and_normalises_othr_accounts() -> None:
    message = parse_pain001_xml(io.BytesIO(V09))
    assert message.message_name == "pain.001.001.09"
    assert message.creation_datetime == datetime(2026, 11, 15, 8, 30, tzinfo=UTC)
    high, small = message.payment_infos
    assert high.debtor_agent_bic == "CBAOSNDA"
    assert high.requested_execution_date == date(2026, 11, 16)  # ReqdExctnDt/Dt
    assert small.requested_execution_date == date(2026, 11, 16)  # ReqdExctnDt/DtTm
    assert high.transactions[0].uetr == "4f3c2a1b-7d6e-4c5b-9a8f-0e1d2c3b4a59"
    assert high.transactions[0].amount == Money(60000000, "XOF")
    assert high.transactions[0].creditor_agent_bic == "ECOCSNDA"
    assert small.transactions[0].creditor_account.identification == "CI93CI0080111130000000001071"
    assert small.transactions[1].creditor_account == AccountId(AccountScheme.OTHER, "SN0100152000010000123460")


def test_a_file_on_disk_is_read_as_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "batch.xml"
    path.write_bytes(V03)
    with path.open("rb") as stream:
        assert parse_pain001_xml(stream).nb_of_txs == 4


def test_official_finnish_v03_sample_with_two_payment_infos_reads_under_eur_rules() -> None:
    message = parse_pain001_xml(fixture("pain001v03_fi_2pmtinf_3tx_bic_rf-creditor-reference.xml"), rules=FOREIGN)
    assert message.msg_id == "2013-11-01-P1"
    assert message.initiating_party == "87654321"  # InitgPty/Id/OrgId/Othr/Id
    assert [p.pmt_inf_id for p in message.payment_infos] == ["2013-11-01-G1", "2013-11-01-G2"]
    assert [p.nb_of_txs for p in message.payment_infos] == [None, None]  # optional at that level
    assert [len(p.transactions) for p in message.payment_infos] == [1, 2]
    assert message.ctrl_sum_minor == 30003
    assert {t.amount for _p, t in message.transactions()} == {Money(10001, "EUR")}
    assert message.payment_infos[1].transactions[1].remittance_information == "RF81123453"


def test_official_v09_and_othr_samples_read_under_foreign_rules() -> None:
    bulgarian = parse_pain001_xml(fixture("pain001v09_bg-to-de_1tx_bicfi_strd-scor_uetr_pstladr.xml"), rules=FOREIGN)
    transfer = bulgarian.payment_infos[0].transactions[0]
    assert (transfer.end_to_end_id, transfer.amount, transfer.creditor_agent_bic) == (
        "SomethingUnique",
        Money(1234, "EUR"),
        "BANKDEFFXXX",
    )
    assert transfer.uetr == "235d1eb5-8dd7-4c1a-8ece-559df8c67da1"
    lithuanian = parse_pain001_xml(
        fixture("pain001v03_lt-siauliu_nonsepa-usd_1tx_bic_othr-acct_utf8bom.xml"), rules=FOREIGN
    )
    assert lithuanian.payment_infos[0].transactions[0].creditor_account == AccountId(AccountScheme.OTHER, "1234567890")
    assert lithuanian.total == Money(11111, "USD")


def test_official_dutch_v09_sample_repeats_its_end_to_end_id() -> None:
    problems = problems_of(fixture("pain001v09_nl_1pmtinf_2tx_bicfi_ustrd.xml"), FOREIGN)
    assert problems == [
        (
            "PmtInf[1]/CdtTrfTxInf[2]/PmtId/EndToEndId",
            "EndToEndId 'NOTPROVIDED' is already used at PmtInf[1]/CdtTrfTxInf[1]/PmtId/EndToEndId.",
            "DUPL",
        )
    ]


def test_official_finnish_sample_breaks_the_waemu_rules_on_every_transaction() -> None:
    problems = problems_of(fixture("pain001v03_fi_2pmtinf_3tx_bic_rf-creditor-reference.xml"))
    assert [(field, reason) for field, _message, reason in problems] == [
        ("PmtInf[1]/DbtrAcct/Id", "AC01"),
        ("PmtInf[1]/CdtTrfTxInf[1]/Amt/InstdAmt/@Ccy", "AM11"),
        ("PmtInf[1]/CdtTrfTxInf[1]/CdtrAcct/Id", "AC01"),
        ("PmtInf[2]/DbtrAcct/Id", "AC01"),
        ("PmtInf[2]/CdtTrfTxInf[1]/Amt/InstdAmt/@Ccy", "AM11"),
        ("PmtInf[2]/CdtTrfTxInf[1]/CdtrAcct/Id", "AC01"),
        ("PmtInf[2]/CdtTrfTxInf[2]/Amt/InstdAmt/@Ccy", "AM11"),
        ("PmtInf[2]/CdtTrfTxInf[2]/CdtrAcct/Id", "AC01"),
    ]
    assert problems[1][1] == "Currency EUR is not accepted; this rail moves XOF."


def test_wrong_group_ctrl_sum() -> None:
    body = V03.replace(b"<CtrlSum>425000</CtrlSum>", b"<CtrlSum>425001</CtrlSum>")
    assert problems_of(body) == [("GrpHdr/CtrlSum", "CtrlSum is 425001 but the transactions add up to 425000.", "AM10")]


def test_wrong_payment_info_ctrl_sum() -> None:
    body = V03.replace(b"<CtrlSum>75000</CtrlSum>", b"<CtrlSum>70000</CtrlSum>")
    assert problems_of(body) == [
        ("PmtInf[2]/CtrlSum", "CtrlSum is 70000 but the transactions add up to 75000.", "AM10")
    ]


def test_wrong_group_and_payment_info_nb_of_txs() -> None:
    body = V03.replace(b"<NbOfTxs>4</NbOfTxs>", b"<NbOfTxs>5</NbOfTxs>").replace(
        b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>2</NbOfTxs>"
    )
    assert problems_of(body) == [
        ("PmtInf[1]/NbOfTxs", "NbOfTxs is 2 but the payment information holds 3 transactions.", "AM18"),
        ("GrpHdr/NbOfTxs", "NbOfTxs is 5 but the message holds 4 transactions.", "AM18"),
    ]


def test_bad_iban_checksum_and_bad_rib_key() -> None:
    body = V03.replace(b"SN08SN0100152000010000123460", b"SN08SN0100152000010000123461").replace(
        b"<Id>SN0100100110000001234588</Id>", b"<Id>SN0100100110000001234587</Id>"
    )
    assert problems_of(body) == [
        (
            "PmtInf[1]/CdtTrfTxInf[1]/CdtrAcct/Id",
            "SN08SN0100152000010000123461: The IBAN check digits are wrong (ISO 7064 MOD-97-10): "
            "the number has a typo.",
            "AC01",
        ),
        (
            "PmtInf[1]/CdtTrfTxInf[2]/CdtrAcct/Id",
            "SN0100100110000001234587: The RIB key 87 does not match the bank, branch and account number.",
            "AC01",
        ),
    ]


def test_duplicate_end_to_end_id_across_payment_infos() -> None:
    body = V03.replace(b"E2E-SUPPLIER-0001", b"E2E-PAYROLL-0002")
    with pytest.raises(MessageRejected) as caught:
        parse_pain001_xml(body)
    (problem,) = caught.value.problems
    assert problem.field == "PmtInf[2]/CdtTrfTxInf[1]/PmtId/EndToEndId"
    assert (
        problem.message == "EndToEndId 'E2E-PAYROLL-0002' is already used at PmtInf[1]/CdtTrfTxInf[2]/PmtId/EndToEndId."
    )
    assert problem.reason_code is ReasonCode.DUPLICATE
    assert (problem.pmt_inf_id, problem.end_to_end_id) == ("SUPPLIERS-2026-11", "E2E-PAYROLL-0002")
    assert caught.value.msg_id == "BATCH-20261101-0001"


def test_amounts_must_use_the_currency_exponent_and_currency_xof() -> None:
    body = (
        V03.replace(b'<InstdAmt Ccy="XOF">100000</InstdAmt>', b'<InstdAmt Ccy="XOF">100000.00</InstdAmt>', 1)
        .replace(b'<InstdAmt Ccy="XOF">150000</InstdAmt>', b'<InstdAmt Ccy="EUR">150000</InstdAmt>')
        .replace(b'<InstdAmt Ccy="XOF">75000</InstdAmt>', b'<InstdAmt Ccy="XOF">0</InstdAmt>')
    )
    assert problems_of(body) == [
        (
            "PmtInf[1]/CdtTrfTxInf[1]/Amt/InstdAmt",
            "XOF has no minor unit: write it without decimals ('100000.00').",
            "AM12",
        ),
        ("PmtInf[1]/CdtTrfTxInf[2]/Amt/InstdAmt/@Ccy", "Currency EUR is not accepted; this rail moves XOF.", "AM11"),
        ("PmtInf[2]/CdtTrfTxInf[1]/Amt/InstdAmt", "The amount must be greater than zero.", "AM01"),
    ]


def test_every_problem_is_collected_in_document_order() -> None:
    body = (
        V03.replace(b"<CtrlSum>425000</CtrlSum>", b"<CtrlSum>1</CtrlSum>")
        .replace(b"SN08SN0480101020000006789028", b"SN08SN0480101020000006789029")
        .replace(b"E2E-SUPPLIER-0001", b"E2E-PAYROLL-0001")
        .replace(b"<Nm>Moussa Diop</Nm>", b"<Nm> </Nm>")
    )
    assert [(field, reason) for field, _m, reason in problems_of(body)] == [
        ("PmtInf[1]/CdtTrfTxInf[2]/Cdtr/Nm", "RR03"),
        ("PmtInf[1]/CdtTrfTxInf[3]/CdtrAcct/Id", "AC01"),
        ("PmtInf[2]/CdtTrfTxInf[1]/PmtId/EndToEndId", "DUPL"),
        ("GrpHdr/CtrlSum", "AM10"),
    ]


def test_group_ctrl_sum_is_required() -> None:
    body = V03.replace(b"<CtrlSum>425000</CtrlSum>", b"")
    assert problems_of(body) == [
        ("GrpHdr/CtrlSum", "CtrlSum is required: it protects against truncated batches.", "AM10")
    ]


def test_schema_violation_names_its_place_and_rule() -> None:
    body = V03.replace(b"<IBAN>SN08SN0120100130000001111140</IBAN>", b"<IBAN>SN08 SN01 2010 0130 0000 0111 1140</IBAN>")
    with pytest.raises(SchemaViolation) as caught:
        parse_pain001_xml(body)
    (error,) = caught.value.errors
    assert error.field == "PmtInf[2]/CdtTrfTxInf[1]//IBAN"
    assert error.message == (
        "Element 'IBAN': [facet 'pattern'] The value 'SN08 SN01 2010 0130 0000 0111 1140' is not accepted by "
        "the pattern '[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}'."
    )
    assert caught.value.status == 400


def test_schema_violation_in_a_header_and_a_missing_element() -> None:
    with pytest.raises(SchemaViolation) as caught:
        parse_pain001_xml(V03.replace(b"<NbOfTxs>4</NbOfTxs>", b"<NbOfTxs>four</NbOfTxs>"))
    assert caught.value.errors[0].field == "GrpHdr//NbOfTxs"
    with pytest.raises(SchemaViolation) as caught:
        parse_pain001_xml(V03.replace(b"<PmtMtd>TRF</PmtMtd>", b"", 1))
    # Streaming validation gives no line numbers: the place is where the parser was when the
    # error surfaced (here the group header had just been read), the message names the element.
    assert caught.value.errors[0].field.endswith("//BtchBookg")
    assert (
        caught.value.errors[0].message == "Element 'BtchBookg': This element is not expected. Expected is ( PmtMtd )."
    )


def test_other_messages_are_unsupported() -> None:
    with pytest.raises(UnsupportedMessage) as caught:
        parse_pain001_xml(fixture("pain002v03_ie-boi_2orgnlpmtinf_4tx-rjct_ac01-ms02-md06-am04.xml"))
    assert caught.value.detail == (
        "Expected a Document of pain.001.001.03, pain.001.001.09; found the root element "
        "{urn:iso:std:iso:20022:tech:xsd:pain.002.001.03}Document."
    )
    with pytest.raises(UnsupportedMessage):
        parse_pain001_xml(V03.replace(b"pain.001.001.03", b"pain.001.001.02"))
