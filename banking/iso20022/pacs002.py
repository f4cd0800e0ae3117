"""pacs.002 FI-to-FI payment status reports: the other bank's answers to our transfers out.

Read with the same safety as a received batch (size limit first, any DOCTYPE refused, no
entity or network resolution, XSD validated while streaming; safe_xml.py), in versions
pacs.002.001.10 (what the partner bank sends, docs/providers/banking.md §3) and pacs.002.001.03.
Statuses are kept as the ISO codes they are (``ACSC``, ``RJCT``…): mapping them to our transfer
states is the connector's job, which never guesses a final state from an unknown code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import BinaryIO

from lxml import etree

from banking.iso20022.safe_xml import XmlSource, release, require_message, validated_events
from banking.iso20022.status_report import StatusReason

PACS002_VERSIONS = ("pacs.002.001.10", "pacs.002.001.03")
PACS002_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class PaymentStatus:
    """One ``TxInfAndSts``: the status of one of our transfers."""

    original_end_to_end_id: str | None
    original_tx_id: str | None
    original_instr_id: str | None
    status: str | None
    reasons: tuple[StatusReason, ...] = ()
    acceptance_datetime: datetime | None = None
    account_servicer_reference: str | None = None
    status_id: str | None = None


@dataclass(frozen=True)
class Pacs002Report:
    message_name: str
    msg_id: str
    creation_datetime: datetime | None
    original_msg_id: str | None
    original_message_name: str | None
    group_status: str | None
    group_reasons: tuple[StatusReason, ...]
    transactions: tuple[PaymentStatus, ...]


@cache
def _qualified(namespace: str, path: str) -> str:
    return "/".join(f"{{{namespace}}}{step}" for step in path.split("/"))


class _Reader:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def text(self, element: etree._Element, path: str) -> str | None:
        value = element.findtext(_qualified(self.ns, path))
        return None if value is None else value.strip()

    def reasons(self, element: etree._Element) -> tuple[StatusReason, ...]:
        found = []
        for reason in element.iterfind(_qualified(self.ns, "StsRsnInf")):
            code = self.text(reason, "Rsn/Cd") or self.text(reason, "Rsn/Prtry") or ""
            lines = [line.text.strip() for line in reason.iterfind(_qualified(self.ns, "AddtlInf")) if line.text]
            if code and len(code) <= 4 and code.isalnum() and code.isupper():
                found.append(StatusReason(code, " ".join(lines)))
        return tuple(found)

    def payment_status(self, element: etree._Element) -> PaymentStatus:
        return PaymentStatus(
            original_end_to_end_id=self.text(element, "OrgnlEndToEndId"),
            original_tx_id=self.text(element, "OrgnlTxId"),
            original_instr_id=self.text(element, "OrgnlInstrId"),
            status=self.text(element, "TxSts"),
            reasons=self.reasons(element),
            acceptance_datetime=_datetime(self.text(element, "AccptncDtTm")),
            account_servicer_reference=self.text(element, "AcctSvcrRef"),
            status_id=self.text(element, "StsId"),
        )


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)  # the XSD already checked the lexical form
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_pacs002(source: bytes | BinaryIO, *, max_bytes: int = PACS002_MAX_BYTES) -> Pacs002Report:
    """Read a pacs.002 status report. Raises the ``banking.iso20022.errors`` of safe_xml.py
    (``MessageTooLarge``, ``MalformedMessage``, ``ForbiddenXmlConstruct``, ``UnsupportedMessage``,
    ``SchemaViolation``)."""
    xml = XmlSource(source, max_bytes=max_bytes)
    message_name = require_message(xml, PACS002_VERSIONS)
    reader = _Reader(f"urn:iso:std:iso:20022:tech:xsd:{message_name}")
    tags = [f"{{{reader.ns}}}{name}" for name in ("GrpHdr", "OrgnlGrpInfAndSts", "TxInfAndSts")]
    header: dict[str, str | None] = {}
    group = Pacs002Report(message_name, "", None, None, None, None, (), ())
    seen_group = False
    transactions: list[PaymentStatus] = []
    for _event, element in validated_events(xml, message_name, tags=tags, events=("end",)):
        name = etree.QName(element).localname
        if name == "GrpHdr":
            header = {"msg_id": reader.text(element, "MsgId"), "created": reader.text(element, "CreDtTm")}
        elif name == "OrgnlGrpInfAndSts" and not seen_group:  # v10 may repeat it; ours carry one
            seen_group = True
            group = replace(
                group,
                original_msg_id=reader.text(element, "OrgnlMsgId"),
                original_message_name=reader.text(element, "OrgnlMsgNmId"),
                group_status=reader.text(element, "GrpSts"),
                group_reasons=reader.reasons(element),
            )
        elif name == "TxInfAndSts":
            transactions.append(reader.payment_status(element))
            release(element)
    return replace(
        group,
        msg_id=header.get("msg_id") or "",
        creation_datetime=_datetime(header.get("created")),
        transactions=tuple(transactions),
    )
