"""Streaming reader of pain.001.001.03 and pain.001.001.09 (docs/providers/banking.md §4.1).

One pass over the body: lxml ``iterparse`` reports the start and end of ``GrpHdr``, ``PmtInf``
and ``CdtTrfTxInf`` only, libxml2 validates every element against the official XSD as it goes
(see safe_xml.py), and each transaction is read into a raw record and then cleared from the
tree with its processed siblings. What stays in memory is the group header, the current
payment-information header and the typed results — a 10,000-transaction file parses in a few
MB (tests/banking/test_pain001_streaming.py measures it).

Version differences handled (``.09`` vs ``.03``): ``BICFI`` for ``BIC``, ``ReqdExctnDt/Dt`` or
``/DtTm`` for ``ReqdExctnDt``, ``PmtId/UETR``, ``AnyBIC`` for ``BICOrBEI``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import BinaryIO

from lxml import etree

from banking.iso20022.pain001_checks import Pain001Assembler
from banking.iso20022.pain001_model import (
    DEFAULT_RULES,
    AccountScheme,
    Pain001Message,
    Pain001Rules,
    RawAccount,
    RawGroupHeader,
    RawPaymentInfo,
    RawRecord,
    RawTransaction,
)
from banking.iso20022.safe_xml import DEFAULT_MAX_BYTES, XmlSource, release, require_message, validated_events

PAIN001_VERSIONS = ("pain.001.001.03", "pain.001.001.09")


class XmlLocator:
    """Field paths in XPath style, 1-based: ``PmtInf[2]/CdtTrfTxInf[7]/Amt/InstdAmt``."""

    def __init__(self, message_name: str) -> None:
        bic = "BICFI" if message_name.endswith(".09") else "BIC"
        self._group = {
            "msg_id": "MsgId",
            "creation_datetime": "CreDtTm",
            "nb_of_txs": "NbOfTxs",
            "ctrl_sum": "CtrlSum",
            "initiating_party": "InitgPty",
        }
        self._payment = {
            "pmt_inf_id": "PmtInfId",
            "nb_of_txs": "NbOfTxs",
            "ctrl_sum": "CtrlSum",
            "requested_execution_date": "ReqdExctnDt",
            "debtor_name": "Dbtr/Nm",
            "debtor_account": "DbtrAcct/Id",
            "debtor_agent_bic": f"DbtrAgt/FinInstnId/{bic}",
        }
        self._transaction = {
            "instr_id": "PmtId/InstrId",
            "end_to_end_id": "PmtId/EndToEndId",
            "amount": "Amt/InstdAmt",
            "currency": "Amt/InstdAmt/@Ccy",
            "creditor_name": "Cdtr/Nm",
            "creditor_account": "CdtrAcct/Id",
            "creditor_agent_bic": f"CdtrAgt/FinInstnId/{bic}",
        }

    def group(self, name: str) -> str:
        return f"GrpHdr/{self._group.get(name, name)}" if name != "payment_infos" else "PmtInf"

    def payment(self, payment_index: int, name: str) -> str:
        return f"PmtInf[{payment_index}]/{self._payment.get(name, name)}"

    def transaction(self, payment_index: int, index: int, name: str) -> str:
        return f"PmtInf[{payment_index}]/CdtTrfTxInf[{index}]/{self._transaction.get(name, name)}"


@cache
def _qualified(namespace: str, path: str) -> str:
    return "/".join(f"{{{namespace}}}{step}" for step in path.split("/"))


class _Reader:
    """Turns the validated event stream of one message into raw records."""

    def __init__(self, source: XmlSource, message_name: str) -> None:
        self.source = source
        self.message_name = message_name
        self.ns = f"urn:iso:std:iso:20022:tech:xsd:{message_name}"
        self.bic = "BICFI" if message_name.endswith(".09") else "BIC"
        self.payment_index = 0
        self.tx_index = 0
        self.in_transaction = False
        self.header_sent = False

    def text(self, element: etree._Element, path: str) -> str | None:
        value = element.findtext(_qualified(self.ns, path))
        return value if value is None else value.strip()

    def where(self) -> str:
        if self.payment_index == 0:
            return "GrpHdr"
        if self.in_transaction:
            return f"PmtInf[{self.payment_index}]/CdtTrfTxInf[{self.tx_index}]"
        return f"PmtInf[{self.payment_index}]"

    def records(self) -> Iterator[RawRecord]:
        tags = [f"{{{self.ns}}}{name}" for name in ("GrpHdr", "PmtInf", "CdtTrfTxInf")]
        for event, element in validated_events(self.source, self.message_name, tags=tags, locate=self.where):
            name = etree.QName(element).localname
            if name == "GrpHdr":
                if event == "end":
                    yield self.group_header(element)
            elif name == "PmtInf" and event == "start":
                self.payment_index, self.tx_index, self.header_sent = self.payment_index + 1, 0, False
            elif name == "PmtInf":
                release(element)
            elif event == "start":  # CdtTrfTxInf: the payment-information header before it is complete
                self.tx_index, self.in_transaction = self.tx_index + 1, True
                if not self.header_sent:
                    self.header_sent = True
                    yield self.payment_info(element.getparent())
            else:
                self.in_transaction = False
                yield self.transaction(element)
                release(element)

    def account(self, element: etree._Element, path: str) -> RawAccount | None:
        return _account(self.text(element, f"{path}/Id/IBAN"), self.text(element, f"{path}/Id/Othr/Id"))

    def group_header(self, element: etree._Element) -> RawGroupHeader:
        party = self.text(element, "InitgPty/Nm")
        for path in ("OrgId/BICOrBEI", "OrgId/AnyBIC", "OrgId/Othr/Id", "PrvtId/Othr/Id"):
            party = party or self.text(element, f"InitgPty/Id/{path}")
        return RawGroupHeader(
            msg_id=self.text(element, "MsgId"),
            creation_datetime=self.text(element, "CreDtTm"),
            nb_of_txs=self.text(element, "NbOfTxs"),
            ctrl_sum=self.text(element, "CtrlSum"),
            initiating_party=party,
        )

    def payment_info(self, element: etree._Element) -> RawPaymentInfo:
        requested = self.text(element, "ReqdExctnDt")
        if self.message_name.endswith(".09"):
            requested = self.text(element, "ReqdExctnDt/Dt") or self.text(element, "ReqdExctnDt/DtTm")
        return RawPaymentInfo(
            index=self.payment_index,
            pmt_inf_id=self.text(element, "PmtInfId"),
            nb_of_txs=self.text(element, "NbOfTxs"),
            ctrl_sum=self.text(element, "CtrlSum"),
            requested_execution_date=requested,
            debtor_name=self.text(element, "Dbtr/Nm"),
            debtor_account=self.account(element, "DbtrAcct"),
            debtor_agent_bic=self.text(element, f"DbtrAgt/FinInstnId/{self.bic}"),
        )

    def transaction(self, element: etree._Element) -> RawTransaction:
        # A message carries up to 100,000 of these (docs/performance.md, P5): its fields are read
        # from one walk of the element (_Fields) instead of a dozen path searches.
        fields = _Fields(element, self.ns)
        amount = fields.element("Amt/InstdAmt")
        lines = [item.text.strip() for item in element.iterfind(_qualified(self.ns, "RmtInf/Ustrd")) if item.text]
        remittance = " ".join(line for line in lines if line)
        iban, other = fields.text("CdtrAcct/Id/IBAN"), fields.text("CdtrAcct/Id/Othr/Id")
        return RawTransaction(
            payment_index=self.payment_index,
            index=self.tx_index,
            instr_id=fields.text("PmtId/InstrId"),
            end_to_end_id=fields.text("PmtId/EndToEndId"),
            amount=None if amount is None else (amount.text or "").strip(),
            currency=None if amount is None else amount.get("Ccy"),
            creditor_name=fields.text("Cdtr/Nm"),
            creditor_account=_account(iban, other),
            creditor_agent_bic=fields.text(f"CdtrAgt/FinInstnId/{self.bic}"),
            remittance_information=remittance or fields.text("RmtInf/Strd/CdtrRefInf/Ref"),
            uetr=fields.text("PmtId/UETR"),
        )


def _account(iban: str | None, other: str | None) -> RawAccount | None:
    """``_Reader.account``'s rule: the IBAN when there is one, else the other identification."""
    if iban is not None:
        return RawAccount(AccountScheme.IBAN, iban)
    return None if other is None else RawAccount(AccountScheme.OTHER, other)


class _Fields:
    """The descendants of an element by their path of local names, as ``findtext`` would find
    them: the first in document order for a path, elements of the message's namespace only."""

    def __init__(self, element: etree._Element, namespace: str) -> None:
        self.found: dict[str, etree._Element] = {}
        self.prefix = f"{{{namespace}}}"
        self._walk(element, "")

    def _walk(self, parent: etree._Element, path: str) -> None:
        for child in parent:
            tag = child.tag
            if not isinstance(tag, str) or not tag.startswith(self.prefix):
                continue  # a comment or processing instruction; or another namespace, which findtext skips too
            child_path = f"{path}/{tag[len(self.prefix) :]}" if path else tag[len(self.prefix) :]
            self.found.setdefault(child_path, child)
            self._walk(child, child_path)

    def element(self, path: str) -> etree._Element | None:
        return self.found.get(path)

    def text(self, path: str) -> str | None:
        """``_Reader.text``: the stripped text, "" for an empty element, None when absent."""
        element = self.found.get(path)
        return None if element is None else (element.text or "").strip()


def parse_pain001_xml(
    source: bytes | BinaryIO, *, rules: Pain001Rules = DEFAULT_RULES, max_bytes: int = DEFAULT_MAX_BYTES
) -> Pain001Message:
    """Read, validate (XSD while streaming) and check a pain.001 v03 or v09 message.

    Raises, in this order of stages: ``MessageTooLarge`` (before parsing), ``MalformedMessage``,
    ``ForbiddenXmlConstruct`` (any DOCTYPE), ``UnsupportedMessage``, ``SchemaViolation`` (the
    first XSD error, with its place), ``MessageRejected`` (every business problem).
    """
    xml = XmlSource(source, max_bytes=max_bytes)
    message_name = require_message(xml, PAIN001_VERSIONS)
    assembler = Pain001Assembler(message_name=message_name, rules=rules, locator=XmlLocator(message_name))
    for record in _Reader(xml, message_name).records():
        assembler.feed(record)
    return assembler.finish()
