"""The simulated partner bank's own ISO 20022 handling: it reads pacs.008 and writes pacs.002.

Written independently of banking.iso20022 (the sandbox is the outside world and imports
nothing of ours but core): a real bank does not share our code either. Reading is safe in the
same way — no DTD, no entity resolution, no network, size-limited by the view.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

PACS008_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
PACS002_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"


class Pacs008Unreadable(ValueError):
    """The body is not a pacs.008.001.08 this bank can process."""


@dataclass(frozen=True)
class ReceivedTransfer:
    msg_id: str
    instr_id: str
    end_to_end_id: str
    tx_id: str
    amount: str
    currency: str
    clearing_system: str
    creditor_name: str
    creditor_account: str


def _text(element: etree._Element, path: str) -> str:
    found = element.find("/".join(f"{{{PACS008_NS}}}{step}" for step in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


def read_pacs008(body: bytes) -> ReceivedTransfer:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise Pacs008Unreadable(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise Pacs008Unreadable("DOCTYPE not allowed")
    if root.tag != f"{{{PACS008_NS}}}Document":
        raise Pacs008Unreadable(f"expected a pacs.008.001.08 Document, got {root.tag}")
    transactions = root.findall(f"{{{PACS008_NS}}}FIToFICstmrCdtTrf/{{{PACS008_NS}}}CdtTrfTxInf")
    if len(transactions) != 1:
        raise Pacs008Unreadable("exactly one CdtTrfTxInf per message")
    header = root.find(f"{{{PACS008_NS}}}FIToFICstmrCdtTrf/{{{PACS008_NS}}}GrpHdr")
    tx = transactions[0]
    amount = tx.find(f"{{{PACS008_NS}}}IntrBkSttlmAmt")
    transfer = ReceivedTransfer(
        msg_id=_text(header, "MsgId") if header is not None else "",
        instr_id=_text(tx, "PmtId/InstrId"),
        end_to_end_id=_text(tx, "PmtId/EndToEndId"),
        tx_id=_text(tx, "PmtId/TxId"),
        amount=(amount.text or "").strip() if amount is not None else "",
        currency=amount.get("Ccy", "") if amount is not None else "",
        clearing_system=_text(header, "SttlmInf/ClrSys/Prtry") if header is not None else "",
        creditor_name=_text(tx, "Cdtr/Nm"),
        creditor_account=_text(tx, "CdtrAcct/Id/IBAN") or _text(tx, "CdtrAcct/Id/Othr/Id"),
    )
    if not (transfer.msg_id and transfer.tx_id and transfer.end_to_end_id and transfer.amount):
        raise Pacs008Unreadable("MsgId, TxId, EndToEndId and IntrBkSttlmAmt are required")
    return transfer


def new_message_id() -> str:
    return "PB" + uuid.uuid4().hex[:30].upper()


def _sub(parent: etree._Element, path: str, text: str | None = None) -> etree._Element:
    element = parent
    for step in path.split("/"):
        element = etree.SubElement(element, f"{{{PACS002_NS}}}{step}")
    element.text = text
    return element


def write_pacs002(
    *,
    msg_id: str,
    created_at: datetime,
    transfer: dict[str, str],
    status: str,
    reason_code: str | None,
    reason_text: str = "",
) -> bytes:
    """A pacs.002.001.10 reporting ``status`` (ISO TxSts) for one received transfer."""
    root = etree.Element(f"{{{PACS002_NS}}}Document", nsmap={None: PACS002_NS})
    report = _sub(root, "FIToFIPmtStsRpt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", msg_id)
    _sub(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    group = _sub(report, "OrgnlGrpInfAndSts")
    _sub(group, "OrgnlMsgId", transfer["msg_id"])
    _sub(group, "OrgnlMsgNmId", "pacs.008.001.08")
    tx = _sub(report, "TxInfAndSts")
    _sub(tx, "StsId", msg_id)
    if transfer["instr_id"]:
        _sub(tx, "OrgnlInstrId", transfer["instr_id"])
    _sub(tx, "OrgnlEndToEndId", transfer["end_to_end_id"])
    _sub(tx, "OrgnlTxId", transfer["tx_id"])
    _sub(tx, "TxSts", status)
    if reason_code:
        reason = _sub(tx, "StsRsnInf")
        _sub(reason, "Rsn/Cd", reason_code)
        if reason_text:
            _sub(reason, "AddtlInf", reason_text[:105])
    _sub(tx, "AccptncDtTm", created_at.isoformat(timespec="seconds"))
    if transfer.get("bank_reference"):
        _sub(tx, "AcctSvcrRef", transfer["bank_reference"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def write_group_rejection(*, msg_id: str, created_at: datetime, original_msg_id: str, reason_text: str) -> bytes:
    """A pacs.002.001.10 refusing a whole message that could not be processed (``FF01``)."""
    root = etree.Element(f"{{{PACS002_NS}}}Document", nsmap={None: PACS002_NS})
    report = _sub(root, "FIToFIPmtStsRpt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", msg_id)
    _sub(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    group = _sub(report, "OrgnlGrpInfAndSts")
    _sub(group, "OrgnlMsgId", original_msg_id[:35] or "UNKNOWN")
    _sub(group, "OrgnlMsgNmId", "pacs.008.001.08")
    _sub(group, "GrpSts", "RJCT")
    reason = _sub(group, "StsRsnInf")
    _sub(reason, "Rsn/Cd", "FF01")
    _sub(reason, "AddtlInf", reason_text[:105])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
