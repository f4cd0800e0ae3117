"""Small helpers to write ISO 20022 documents with lxml and prove them valid before they leave."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree

from banking.iso20022.schemas import namespace_of, validation_errors

# What XML 1.0 cannot carry (its Char production): C0 controls but tab, LF and CR, lone surrogates, U+FFFE/FFFF.
_NOT_XML_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class GeneratedMessageInvalid(RuntimeError):
    """A message we generated breaks its XSD: a bug on our side, never sent."""


def document(message_name: str, body_tag: str) -> tuple[etree._Element, etree._Element, str]:
    """``(Document, body element, namespace)`` for a new message."""
    ns = namespace_of(message_name)
    root = etree.Element(f"{{{ns}}}Document", nsmap={None: ns})
    return root, etree.SubElement(root, f"{{{ns}}}{body_tag}"), ns


def sub(parent: etree._Element, path: str, text: str | None = None, **attributes: str) -> etree._Element:
    """Append ``a/b/c`` under ``parent`` (each step a new element in the parent's namespace)."""
    ns = etree.QName(parent).namespace
    element = parent
    for step in path.split("/"):
        element = etree.SubElement(element, f"{{{ns}}}{step}")
    if text is not None:
        element.text = text
    for name, value in attributes.items():
        element.set(name, value)
    return element


def iso_datetime(moment: datetime) -> str:
    """ISODateTime with an explicit offset, to the second (naive values are taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.isoformat(timespec="seconds")


def serialise(root: etree._Element, message_name: str) -> bytes:
    """UTF-8 bytes with an XML declaration, after checking the XSD (``GeneratedMessageInvalid``)."""
    errors = validation_errors(root, message_name)
    if errors:
        raise GeneratedMessageInvalid(f"generated {message_name} is not schema-valid: {errors[:3]}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=False)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (ISO MaxNNText), with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def xml_safe(text: str) -> str:
    """``text`` with every character XML cannot carry replaced by U+FFFD, for a REPORT about rows
    stored before intake refused such characters: the report must still be written. Never for
    an instruction that moves money (pacs.008): there a bad character must stop the transfer."""
    return _NOT_XML_CHAR_RE.sub("\ufffd", text)
