"""Test data for the bank-transfer rail: WAEMU account numbers and generated pain.001 files."""

from __future__ import annotations

from pathlib import Path

from banking.iban import Rib, iban_from_rib, rib_key

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def waemu_rib(account_number: str, *, bank: str = "SN010", branch: str = "01520") -> str:
    """A valid 24-character RIB for a 12-digit account number."""
    return bank + branch + account_number + rib_key(bank, branch, account_number)


def waemu_iban(account_number: str, *, bank: str = "SN010", branch: str = "01520") -> str:
    """A valid SN IBAN whose 12-digit account number is ``account_number`` (sandbox markers)."""
    rib = Rib(bank, branch, account_number, rib_key(bank, branch, account_number))
    return iban_from_rib(rib).value


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def pain001_v03(transaction_count: int, *, amount: int = 1000, msg_id: str = "BATCH-BIG-0001") -> bytes:
    """A schema-valid, rule-abiding pain.001.001.03 with one payment information and
    ``transaction_count`` transactions to distinct accounts (distinct EndToEndIds)."""
    total = transaction_count * amount
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-01T09:00:00</CreDtTm>"
        f"<NbOfTxs>{transaction_count}</NbOfTxs><CtrlSum>{total}</CtrlSum><InitgPty><Nm>ACME SARL</Nm></InitgPty>"
        "</GrpHdr><PmtInf><PmtInfId>PAYROLL</PmtInfId><PmtMtd>TRF</PmtMtd>"
        f"<NbOfTxs>{transaction_count}</NbOfTxs><CtrlSum>{total}</CtrlSum><ReqdExctnDt>2026-11-02</ReqdExctnDt>"
        "<Dbtr><Nm>ACME SARL</Nm></Dbtr><DbtrAcct><Id><IBAN>SN08SN0100152000048500003035</IBAN></Id></DbtrAcct>"
        "<DbtrAgt><FinInstnId><BIC>CBAOSNDA</BIC></FinInstnId></DbtrAgt>"
    ]
    for i in range(1, transaction_count + 1):
        iban = waemu_iban(f"{200000000000 + i:012d}")
        parts.append(
            f"<CdtTrfTxInf><PmtId><InstrId>I-{i}</InstrId><EndToEndId>E2E-{i:08d}</EndToEndId></PmtId>"
            f'<Amt><InstdAmt Ccy="XOF">{amount}</InstdAmt></Amt>'
            "<CdtrAgt><FinInstnId><BIC>CBAOSNDA</BIC></FinInstnId></CdtrAgt>"
            f"<Cdtr><Nm>Beneficiaire {i}</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>"
            f"<RmtInf><Ustrd>Salaire 10/2026 numero {i}</Ustrd></RmtInf></CdtTrfTxInf>"
        )
    parts.append("</PmtInf></CstmrCdtTrfInitn></Document>")
    return "".join(parts).encode()
