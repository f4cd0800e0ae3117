"""pacs.008.001.08 FI-to-FI customer credit transfer: the order we send to the partner bank.

One transaction per message, so the message, instruction and transaction ids can all carry our
stable reference: a retry after a lost answer is the *same* message, which the receiving bank
recognises as a duplicate (docs/providers/banking.md §4.4: ``MsgId`` unique per message,
``EndToEndId`` travels unchanged). Settlement (``SttlmInf``): ``CLRG`` through the clearing
system named in ``ClrSys/Prtry`` (``STAR-UEMOA`` for RTGS, ``SICA-UEMOA`` for clearing,
docs/providers/banking.md §5; there is no ISO code for them), with the matching ``ClrChanl`` (``RTGS`` / ``MPNS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from banking.iban import AccountKind, parse_account
from banking.iso20022.xml_build import clip, document, iso_datetime, serialise, sub
from core.money import Money

PACS008_VERSION = "pacs.008.001.08"
CLEARING_CHANNELS = {"STAR-UEMOA": "RTGS", "SICA-UEMOA": "MPNS"}


@dataclass(frozen=True)
class Pacs008Transfer:
    """Everything one pacs.008 carries (accounts are WAEMU IBAN or RIB strings)."""

    msg_id: str
    created_at: datetime
    instr_id: str
    end_to_end_id: str
    tx_id: str
    amount: Money
    settlement_date: date
    clearing_system: str  # STAR-UEMOA | SICA-UEMOA
    debtor_name: str
    debtor_account: str
    debtor_agent_bic: str
    creditor_agent_bic: str
    creditor_name: str
    creditor_account: str
    remittance_information: str | None = None


def _account(parent: etree._Element, tag: str, account_number: str) -> None:
    account = parse_account(account_number)
    if account.kind is AccountKind.IBAN:
        sub(parent, f"{tag}/Id/IBAN", account.value)
    else:
        other = sub(parent, f"{tag}/Id/Othr")
        sub(other, "Id", account.value)
        sub(other, "SchmeNm/Prtry", "RIB")


def render_pacs008(transfer: Pacs008Transfer) -> bytes:
    """The transfer as pacs.008.001.08 XML bytes, validated against the official XSD."""
    if transfer.clearing_system not in CLEARING_CHANNELS:
        raise ValueError(f"unknown clearing system {transfer.clearing_system!r}")
    root, body, _ns = document(PACS008_VERSION, "FIToFICstmrCdtTrf")
    header = sub(body, "GrpHdr")
    sub(header, "MsgId", transfer.msg_id)
    sub(header, "CreDtTm", iso_datetime(transfer.created_at))
    sub(header, "NbOfTxs", "1")
    settlement = sub(header, "SttlmInf")
    sub(settlement, "SttlmMtd", "CLRG")
    sub(settlement, "ClrSys/Prtry", transfer.clearing_system)
    amount = transfer.amount
    transaction = sub(body, "CdtTrfTxInf")
    payment_id = sub(transaction, "PmtId")
    sub(payment_id, "InstrId", transfer.instr_id)
    sub(payment_id, "EndToEndId", transfer.end_to_end_id)
    sub(payment_id, "TxId", transfer.tx_id)
    sub(transaction, "PmtTpInf/ClrChanl", CLEARING_CHANNELS[transfer.clearing_system])
    sub(transaction, "IntrBkSttlmAmt", amount.to_decimal_string(), Ccy=amount.currency)
    sub(transaction, "IntrBkSttlmDt", transfer.settlement_date.isoformat())
    sub(transaction, "ChrgBr", "SHAR")
    sub(transaction, "Dbtr/Nm", clip(transfer.debtor_name, 140))
    _account(transaction, "DbtrAcct", transfer.debtor_account)
    sub(transaction, "DbtrAgt/FinInstnId/BICFI", transfer.debtor_agent_bic)
    sub(transaction, "CdtrAgt/FinInstnId/BICFI", transfer.creditor_agent_bic)
    sub(transaction, "Cdtr/Nm", clip(transfer.creditor_name, 140))
    _account(transaction, "CdtrAcct", transfer.creditor_account)
    if transfer.remittance_information:
        sub(transaction, "RmtInf/Ustrd", clip(transfer.remittance_information, 140))
    return serialise(root, PACS008_VERSION)
