"""The JSON batch format: same fields, same dataclasses, same checks as pain.001 XML."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from banking.iso20022 import (
    MalformedMessage,
    MessageRejected,
    SchemaViolation,
    parse_pain001_json,
    parse_pain001_xml,
)
from tests.banking.builders import fixture

BATCH: dict[str, Any] = {
    "msg_id": "BATCH-20261101-0001",
    "creation_datetime": "2026-11-01T09:00:00",
    "nb_of_txs": 4,
    "ctrl_sum": "425000",
    "initiating_party": "ACME SARL",
    "payment_infos": [
        {
            "pmt_inf_id": "PAYROLL-2026-10",
            "nb_of_txs": 3,
            "ctrl_sum": "350000",
            "requested_execution_date": "2026-11-02",
            "debtor_name": "ACME SARL",
            "debtor_account": "SN08SN0100152000048500003035",
            "debtor_agent_bic": "CBAOSNDA",
            "transactions": [
                {
                    "instr_id": "I-0001",
                    "end_to_end_id": "E2E-PAYROLL-0001",
                    "amount": "100000",
                    "currency": "XOF",
                    "creditor_name": "Awa Sow",
                    "creditor_account": "SN08SN0100152000010000123460",
                    "creditor_agent_bic": "CBAOSNDA",
                    "remittance_information": "Salaire 10/2026",
                },
                {
                    "instr_id": "I-0002",
                    "end_to_end_id": "E2E-PAYROLL-0002",
                    "amount": "150000",
                    "currency": "XOF",
                    "creditor_name": "Moussa Diop",
                    "creditor_account": "SN010 01001 100000012345 88",
                    "creditor_agent_bic": "SGSNSNDA",
                    "remittance_information": "Salaire 10/2026 Prime",
                },
                {
                    "end_to_end_id": "E2E-PAYROLL-0003",
                    "amount": "100000",
                    "currency": "XOF",
                    "creditor_name": "Fatou Ndiaye",
                    "creditor_account": "SN08SN0480101020000006789028",
                },
            ],
        },
        {
            "pmt_inf_id": "SUPPLIERS-2026-11",
            "nb_of_txs": "1",
            "ctrl_sum": "75000",
            "requested_execution_date": "2026-11-03",
            "debtor_name": "ACME SARL",
            "debtor_account": "SN08SN0100152000048500003035",
            "debtor_agent_bic": "CBAOSNDA",
            "transactions": [
                {
                    "instr_id": "I-0004",
                    "end_to_end_id": "E2E-SUPPLIER-0001",
                    "amount": "75000",
                    "currency": "XOF",
                    "creditor_name": "Transports Fall & Fils",
                    "creditor_account": "sn08 sn01 2010 0130 0000 0111 1140",
                    "creditor_agent_bic": "BICISNDX",
                    "remittance_information": "FACT-2026-0042",
                }
            ],
        },
    ],
}


def batch(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(BATCH)
    document.update(changes)
    return document


def test_json_batch_gives_the_same_message_as_its_xml_equivalent() -> None:
    from_json = parse_pain001_json(json.dumps(BATCH).encode())
    from_xml = parse_pain001_xml(fixture("waemu_pain001v03_2pmtinf_4tx.xml"))
    assert from_json.message_name == "json"
    assert from_json == replace(from_xml, message_name="json")


def test_an_already_decoded_mapping_is_accepted() -> None:
    assert parse_pain001_json(batch()).ctrl_sum_minor == 425000


def test_structure_errors_are_all_reported_with_json_paths() -> None:
    document = batch(nb_of_txs=True, extra="x")
    del document["msg_id"]
    transaction = document["payment_infos"][0]["transactions"][0]
    transaction["amount"] = 100000
    transaction["amout"] = "1"
    document["payment_infos"][1]["transactions"] = []
    with pytest.raises(SchemaViolation) as caught:
        parse_pain001_json(document)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("extra", "Unknown field."),
        ("msg_id", "This field is required."),
        ("nb_of_txs", "Must be a whole number."),
        ("payment_infos[0].transactions[0].amout", "Unknown field."),
        ("payment_infos[0].transactions[0].amount", 'Must be a string. Amounts are decimal strings such as "1500".'),
        ("payment_infos[1].transactions", "Must be a non-empty array."),
    ]
    assert caught.value.detail == "The batch does not match the JSON batch format (6 errors)."


def test_business_problems_carry_json_paths() -> None:
    document = batch(ctrl_sum="425001")
    first = document["payment_infos"][0]["transactions"][0]
    first["creditor_account"] = "SN08SN0100152000010000123461"
    first["amount"] = "100000.5"
    document["payment_infos"][1]["transactions"][0]["end_to_end_id"] = "E2E-PAYROLL-0002"
    with pytest.raises(MessageRejected) as caught:
        parse_pain001_json(document)
    assert [(p.field, p.reason_code.value) for p in caught.value.problems] == [
        ("payment_infos[0].transactions[0].amount", "AM12"),
        ("payment_infos[0].transactions[0].creditor_account", "AC01"),
        ("payment_infos[1].transactions[0].end_to_end_id", "DUPL"),
    ]
    assert caught.value.problems[2].message == (
        "EndToEndId 'E2E-PAYROLL-0002' is already used at payment_infos[0].transactions[1].end_to_end_id."
    )


def test_wrong_counts_and_sums_in_json() -> None:
    document = batch(nb_of_txs=3, ctrl_sum="425001")
    with pytest.raises(MessageRejected) as caught:
        parse_pain001_json(document)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("nb_of_txs", "NbOfTxs is 3 but the message holds 4 transactions."),
        ("ctrl_sum", "CtrlSum is 425001 but the transactions add up to 425000."),
    ]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"msg_id": "a", "msg_id": "b"}', "The JSON object repeats the key 'msg_id'."),
        (b"<Document/>", "The message is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"[" * 100_000 + b"]" * 100_000, "The message is not valid JSON: maximum recursion depth exceeded"),
    ],
)
def test_unreadable_json_is_malformed(body: bytes, detail: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_pain001_json(body)
    assert caught.value.detail.startswith(detail)


def test_a_json_array_is_not_a_batch() -> None:
    with pytest.raises(SchemaViolation) as caught:
        parse_pain001_json(b"[]")
    assert [(e.field, e.message) for e in caught.value.errors] == [("$", "Must be an object.")]
