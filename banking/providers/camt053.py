"""Reading a bank's end-of-day statement, ISO 20022 camt.053, into a day's record
(docs/providers/banking.md §8). Used by the bank connectors and by staff importing a file.

Safety as for every received ISO 20022 message (``banking.iso20022.safe_xml``): the size is
bounded, any DOCTYPE is refused, nothing is resolved or fetched, entries are freed as they are
read. Only booked entries (``Sts`` ``BOOK``) count. An entry with several ``TxDtls`` (a batch
booking) gives one line per transaction, with its own amount when it has one. Our reference is
``Refs/TxId`` (else ``EndToEndId`` unless ``NOTPROVIDED``); the bank's is ``AcctSvcrRef``.
A namespace other than ISO's camt.053 (a national variant) is refused, not guessed at.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from banking.iso20022.errors import Iso20022Error
from banking.iso20022.safe_xml import SAFE_PARSER_OPTIONS, XmlSource, refuse_doctype, release, screen
from core.errors import ValidationFailed
from core.money import Money, exponent
from core.provider_records import DayRecord, RecordLine, RecordStatus, RecordUnreadable

CAMT053_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
NOT_PROVIDED = "NOTPROVIDED"


def _find(element: etree._Element, path: str, ns: str) -> etree._Element | None:
    return element.find("/".join(f"{{{ns}}}{step}" for step in path.split("/")))


def _text(element: etree._Element, path: str, ns: str) -> str:
    found = _find(element, path, ns)
    return (found.text or "").strip() if found is not None else ""


def _money(amount: etree._Element | None, where: str) -> Money:
    if amount is None:
        raise RecordUnreadable(f"{where}: no Amt")
    currency = amount.get("Ccy") or ""
    try:
        value = Decimal((amount.text or "").strip()).scaleb(exponent(currency))
    except (InvalidOperation, ValidationFailed):
        raise RecordUnreadable(f"{where}: the amount {amount.text!r} {currency!r} cannot be read") from None
    if value != value.to_integral_value() or value <= 0:
        raise RecordUnreadable(f"{where}: the amount {amount.text!r} is not a positive {currency} amount")
    return Money(int(value), currency)


def _status(entry: etree._Element, ns: str) -> str:
    """``Sts`` is a code in camt.053.001.02 and ``Sts/Cd`` from .08 on."""
    return _text(entry, "Sts/Cd", ns) or _text(entry, "Sts", ns)


def _entry_lines(entry: etree._Element, ns: str, number: int) -> list[RecordLine]:
    where = f"entry {number}"
    entry_money = _money(_find(entry, "Amt", ns), where)
    reversed_ = _text(entry, "RvslInd", ns).lower() == "true"
    bank_reference = _text(entry, "AcctSvcrRef", ns)
    details = entry.findall(f"{{{ns}}}NtryDtls/{{{ns}}}TxDtls")
    lines = []
    for index, detail in enumerate(details or [None]):
        money = entry_money
        reference = ""
        provider_reference = bank_reference
        if detail is not None:
            amount = _find(detail, "AmtDtls/TxAmt/Amt", ns)
            if amount is None and len(details) > 1:
                amount = _find(detail, "Amt", ns)
            money = _money(amount, f"{where}.TxDtls[{index}]") if amount is not None else entry_money
            end_to_end = _text(detail, "Refs/EndToEndId", ns)
            reference = _text(detail, "Refs/TxId", ns) or (end_to_end if end_to_end != NOT_PROVIDED else "")
            provider_reference = _text(detail, "Refs/AcctSvcrRef", ns) or bank_reference
            if len(details) > 1:
                provider_reference = provider_reference or f"{bank_reference}#{index}"
        lines.append(
            RecordLine(
                provider_reference=provider_reference,
                reference=reference,
                money=money,
                fee_minor=None,
                status=RecordStatus.REVERSED if reversed_ else RecordStatus.SUCCEEDED,
            )
        )
    return lines


def parse_camt053(content: bytes, *, provider: str, business_date: date) -> DayRecord:
    """The booked entries of every statement in ``content``; ``RecordUnreadable`` otherwise."""
    try:
        source = XmlSource(content)
        root = screen(source)
    except Iso20022Error as exc:
        raise RecordUnreadable(f"the statement is not readable XML: {exc.detail}") from None
    ns = root.namespace or ""
    if root.local_name != "Document" or not ns.startswith(CAMT053_PREFIX):
        raise RecordUnreadable(f"not an ISO 20022 camt.053 statement (root {{{ns}}}{root.local_name})")
    lines: list[RecordLine] = []
    statements = 0
    number = 0
    context = etree.iterparse(
        source.open(), events=("end",), tag=(f"{{{ns}}}Ntry", f"{{{ns}}}Stmt"), **SAFE_PARSER_OPTIONS
    )
    for _event, element in context:
        refuse_doctype(element)
        if element.tag == f"{{{ns}}}Stmt":
            statements += 1
        else:
            number += 1
            if _status(element, ns) == "BOOK":
                lines.extend(_entry_lines(element, ns, number))
        release(element)
    if not statements:
        raise RecordUnreadable("the camt.053 document holds no statement (Stmt)")
    return DayRecord(provider=provider, business_date=business_date, lines=tuple(lines))
