"""Reading the providers' records of a day (no database): camt.053 statements (public samples
and broken ones), Niirpay's settlement file, and the comparison's classification on its own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from banking.providers.camt053 import parse_camt053
from core.money import Money
from core.provider_records import RecordLine, RecordStatus, RecordUnreadable
from payments.providers.niirpay_settlement import parse_settlement_file
from reconciliation.models import BreakKind
from reconciliation.services.matching import Ours, compare

FIXTURES = Path(__file__).resolve().parent.parent / "banking" / "fixtures"
DAY = date(2026, 11, 16)


def camt(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_finnish_guideline_statement_gives_one_line_per_transaction_of_its_batch_entries() -> None:
    record = parse_camt053(camt("camt053v02_fi-fffs-guideline-sample_commented.xml"), provider="x", business_date=DAY)
    # 10 booked entries, three of them batches (3, 2 and 1 TxDtls): 13 lines, whose amounts add
    # up to the entries' 32,505.17 EUR (the batches' TxAmt sum to their entry's Amt)
    assert len(record.lines) == 13
    assert sum(line.money.minor for line in record.lines) == 3_250_517
    assert {line.money.currency for line in record.lines} == {"EUR"}


def test_the_lithuanian_statement_reads_its_four_entries_with_their_references() -> None:
    record = parse_camt053(camt("camt053v02_lt-siauliu_statement_4ntry_nonascii.xml"), provider="x", business_date=DAY)
    assert [line.reference for line in record.lines] == ["514026627", "515993893", "516079331", "516079334"]
    assert sum(line.money.minor for line in record.lines) == 276_808
    assert all(line.status is RecordStatus.SUCCEEDED for line in record.lines)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("tricky_camt053v02_missing-stmt.xml", "no statement"),
        ("tricky_camt053v02_at-stuzza-proprietary-namespace.xml", "not an ISO 20022 camt.053"),
        ("pain001v09_nl_1pmtinf_2tx_bicfi_ustrd.xml", "not an ISO 20022 camt.053"),
    ],
)
def test_a_statement_that_is_not_one_is_unreadable(name: str, why: str) -> None:
    with pytest.raises(RecordUnreadable, match=why):
        parse_camt053(camt(name), provider="x", business_date=DAY)


def test_a_statement_with_a_doctype_is_refused_without_resolving_it() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        b"<BkToCstmrStmt>&x;</BkToCstmrStmt></Document>"
    )
    with pytest.raises(RecordUnreadable, match="not readable"):
        parse_camt053(evil, provider="x", business_date=DAY)


SETTLEMENT = (
    "\ufeffTransaction Date,GUTRANSACTIONID,Operator Transaction ID,reference,amount,fees,"
    "commissions_operator_amount,currency\r\n"
    "2026-11-16,NPT1,R1,txn_a,15000,150,0,XOF\r\n"
    "2026-11-16,NPT2,R2,txn_b,2500,0,0,XOF\r\n"
)


def test_the_niirpay_settlement_file_is_read_with_its_alias_and_bom() -> None:
    record = parse_settlement_file(SETTLEMENT.encode(), business_date=DAY)
    assert [(x.provider_reference, x.reference, x.money.minor, x.fee_minor) for x in record.lines] == [
        ("NPT1", "txn_a", 15000, 150),
        ("NPT2", "txn_b", 2500, 0),
    ]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("reference,amount\r\ntxn_a,1\r\n", "lacks the columns"),
        (SETTLEMENT.replace("15000", "15000.5"), "line 2.amount"),
        (SETTLEMENT + "2026-11-16,NPT3\r\n", "line 4"),
    ],
)
def test_a_broken_settlement_file_is_unreadable(content: str, why: str) -> None:
    with pytest.raises(RecordUnreadable, match=why):
        parse_settlement_file(content.encode(), business_date=DAY)


def ours(pk: int, status: str = "succeeded", amount: int = 1000, fee: int = 0) -> Ours:
    return Ours(pk, f"txn_{pk}", f"P{pk}", amount, fee, "XOF", status)


def line(reference: str, amount: int = 1000, *, fee: int | None = None, status: str = "succeeded") -> RecordLine:
    return RecordLine(f"P{reference[4:]}", reference, Money(amount, "XOF"), fee, RecordStatus(status))


def test_every_difference_is_classified_once() -> None:
    rows = [
        ours(1),
        ours(2),
        ours(3),
        ours(4, "unknown"),
        ours(5, "failed"),
        ours(6),
        ours(7, fee=10),
        ours(8, "unknown"),
    ]
    lines = [
        line("txn_1"),  # matched
        line("txn_2", 1100),  # amount differs
        line("txn_4"),  # ours unknown, theirs paid
        line("txn_5"),  # ours failed, theirs paid
        line("txn_6"),
        line("txn_6"),  # the same movement twice at the provider
        line("txn_7", fee=15),  # fee differs
        line("txn_99"),  # not ours
        line("txn_98", status="failed"),  # a refusal we never saw: nothing moved, no break
    ]
    result = compare(rows, lines, fee_checked=True, complete=True)
    kinds = sorted((d.kind.value, d.ours.public_id if d.ours else d.line.reference) for d in result.differences)  # type: ignore[union-attr]
    assert kinds == [
        ("amount_differs", "txn_2"),
        ("duplicate_at_provider", "txn_6"),
        ("fee_differs", "txn_7"),
        ("missing_at_provider", "txn_3"),
        ("missing_in_ledger", "txn_99"),
        ("status_differs", "txn_4"),
        ("status_differs", "txn_5"),
    ]
    assert [row.public_id for row, _ in result.matches] == ["txn_1", "txn_6"]
    assert result.in_flight == 1  # txn_8: unknown, not in the record


def test_a_partial_record_concludes_nothing_from_absence() -> None:
    result = compare([ours(1), ours(2)], [line("txn_1")], fee_checked=False, complete=False)
    assert result.differences == [] and len(result.matches) == 1


def test_a_fee_is_compared_only_where_the_record_is_the_fee_we_booked() -> None:
    result = compare([ours(1, fee=0)], [line("txn_1", fee=10)], fee_checked=False, complete=True)
    assert result.differences == [] and BreakKind.FEE_DIFFERS not in {d.kind for d in result.differences}
