"""The pain.001 reader takes a credit transfer's fields from one walk of its element
(banking/iso20022/pain001_xml.py ``_Fields``, docs/performance.md P5) instead of a path search
per field: it must find exactly what ``findtext`` finds, on every sample message we hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from banking.iso20022.pain001_xml import _Fields, _qualified

FIXTURES = Path(__file__).resolve().parents[1] / "banking" / "fixtures"
SAMPLES = sorted(FIXTURES.glob("*pain001*.xml"))
PATHS = (
    "PmtId/InstrId", "PmtId/EndToEndId", "PmtId/UETR", "Amt/InstdAmt", "Cdtr/Nm", "CdtrAcct/Id/IBAN",
    "CdtrAcct/Id/Othr/Id", "CdtrAgt/FinInstnId/BIC", "CdtrAgt/FinInstnId/BICFI", "RmtInf/Ustrd",
    "RmtInf/Strd/CdtrRefInf/Ref", "Cdtr/PstlAdr/Ctry", "Nothing/There",
)  # fmt: skip


def _findtext(element: etree._Element, namespace: str, path: str) -> str | None:
    value = element.findtext(_qualified(namespace, path))
    return None if value is None else value.strip()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_fields_find_what_findtext_finds(sample: Path) -> None:
    root = etree.parse(str(sample)).getroot()
    namespace = etree.QName(root).namespace
    transfers = list(root.iter(f"{{{namespace}}}CdtTrfTxInf"))
    assert transfers
    for transfer in transfers:
        fields = _Fields(transfer, namespace)
        for path in PATHS:
            assert fields.text(path) == _findtext(transfer, namespace, path), (sample.name, path)


def test_fields_take_the_first_in_document_order_and_skip_other_namespaces() -> None:
    transfer = etree.fromstring(
        '<T xmlns="urn:x" xmlns:o="urn:other"><o:A><B>foreign</B></o:A><!-- note --><A><B> first </B><B>2</B></A>'
        "<A><B>3</B><C/></A></T>"
    )
    fields, paths = _Fields(transfer, "urn:x"), ("A/B", "A/C", "A/D")
    assert [fields.text(p) for p in paths] == [_findtext(transfer, "urn:x", p) for p in paths] == ["first", "", None]
