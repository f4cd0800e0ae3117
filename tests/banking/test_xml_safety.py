"""Untrusted XML is refused before it can hurt: DTDs and entities (XXE, billion laughs, external
DTDs) never resolved, nothing read from disk or the network, size checked before parsing."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree

from banking.iso20022 import (
    ForbiddenXmlConstruct,
    MalformedMessage,
    MessageTooLarge,
    parse_pacs002,
    parse_pain001_json,
    parse_pain001_xml,
)
from banking.iso20022.schemas import schema_for
from tests.banking.builders import fixture

V03 = fixture("waemu_pain001v03_2pmtinf_4tx.xml")
DOCTYPE_REFUSED = "DOCTYPE declarations (DTDs, entities) are not allowed in ISO 20022 messages; nothing was resolved."


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = b'<!ENTITY leak "fetched">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def listener() -> Iterator[str]:
    """A local HTTP server that records any request (an XXE must never reach it)."""
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def with_doctype(doctype: str, msg_id: str = "&xxe;") -> bytes:
    body = V03.replace(b"<MsgId>BATCH-20261101-0001</MsgId>", f"<MsgId>{msg_id}</MsgId>".encode())
    return body.replace(b'<?xml version="1.0" encoding="UTF-8"?>\n', f'<?xml version="1.0"?>\n{doctype}\n'.encode())


def test_external_entity_reading_a_local_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = with_doctype(f'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{secret}">]>')
    with pytest.raises(ForbiddenXmlConstruct) as caught:
        parse_pain001_xml(body)
    assert caught.value.detail == DOCTYPE_REFUSED
    assert caught.value.status == 400 and caught.value.reason_code == "FF01"
    assert "TOP-SECRET" not in repr(caught.value.__dict__)


def test_external_entity_and_external_dtd_over_http_are_never_fetched(listener: str) -> None:
    for doctype in (
        f'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "{listener}/entity">]>',
        f'<!DOCTYPE Document SYSTEM "{listener}/external.dtd">',
        f'<!DOCTYPE Document [<!ENTITY % remote SYSTEM "{listener}/param"> %remote;]>',
    ):
        with pytest.raises(ForbiddenXmlConstruct):
            parse_pain001_xml(with_doctype(doctype, msg_id="M1"))
    time.sleep(0.2)
    assert _Recorder.hits == []


def test_billion_laughs_is_refused_at_once() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    ]
    body = with_doctype(f"<!DOCTYPE Document [{''.join(entities)}]>", msg_id="&lol9;")
    started = time.perf_counter()
    with pytest.raises(ForbiddenXmlConstruct) as caught:
        parse_pain001_xml(body)
    assert caught.value.detail == DOCTYPE_REFUSED
    assert time.perf_counter() - started < 10.0  # refused before any expansion (an expansion would take minutes)


def test_an_internal_doctype_without_entities_is_refused_too() -> None:
    with pytest.raises(ForbiddenXmlConstruct):
        parse_pain001_xml(with_doctype("<!DOCTYPE Document>", msg_id="M1"))


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"msg_id": "M1"}',
            "The message is not well-formed XML (line 1, column 1): Start tag expected, '<' not found",
        ),
        (b"hello", "The message is not well-formed XML (line 1, column 1): Start tag expected, '<' not found"),
        (b"\x00\x01\x02binary", "The message is not well-formed XML"),
        (b"", "The message is empty."),
    ],
)
def test_a_body_that_is_not_xml_is_malformed(body: bytes, detail: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_pain001_xml(body)
    assert caught.value.detail.startswith(detail)
    assert caught.value.code == "parse_error"


def test_a_truncated_file_is_malformed_with_its_position() -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_pain001_xml(V03[:-40])
    assert caught.value.detail.startswith("The message is not well-formed XML (line ")


def test_the_size_limit_is_checked_before_parsing() -> None:
    garbage = b"<" * 5000  # would be a syntax error if it were parsed
    with pytest.raises(MessageTooLarge) as caught:
        parse_pain001_xml(garbage, max_bytes=4096)
    assert caught.value.status == 413 and caught.value.code == "payload_too_large"
    assert caught.value.detail == "The message is larger than the 4,096-byte limit; it was not parsed."
    with pytest.raises(MessageTooLarge):
        parse_pain001_xml(io.BytesIO(garbage), max_bytes=4096)  # a seekable stream: its size
    with pytest.raises(MessageTooLarge):
        parse_pain001_json(b" " * 5000, max_bytes=4096)
    assert parse_pain001_xml(V03, max_bytes=len(V03)).nb_of_txs == 4  # the limit itself is allowed


class _Pipe(io.RawIOBase):
    """A non-seekable stream that would deliver far more than the limit."""

    def __init__(self) -> None:
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        size = len(buffer)
        buffer[:size] = b"<" * size
        self.delivered += size
        return size


def test_a_non_seekable_stream_is_read_no_further_than_the_limit() -> None:
    pipe = _Pipe()
    with pytest.raises(MessageTooLarge):
        parse_pain001_xml(io.BufferedReader(pipe), max_bytes=10_000)  # type: ignore[type-var]
    assert pipe.delivered <= 10_001 + io.DEFAULT_BUFFER_SIZE


def test_pacs002_reading_refuses_doctypes_too() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr>'
        b"<MsgId>&xxe;</MsgId></GrpHdr></FIToFIPmtStsRpt></Document>"
    )
    with pytest.raises(ForbiddenXmlConstruct):
        parse_pacs002(body)


def test_canary_lxml_loses_parse_errors_when_validating_with_resolve_entities_false() -> None:
    """Why the validating pass does not take ``resolve_entities=False`` (safe_xml.py): with
    ``schema=`` it makes lxml 6.1 accept a truncated document. The screening pass (which does
    take it, without a schema) catches the truncation. When this canary fails, lxml was fixed."""
    truncated = V03[:-40]
    events = etree.iterparse(
        io.BytesIO(truncated), events=("end",), schema=schema_for("pain.001.001.03"), resolve_entities=False
    )
    assert sum(1 for _ in events) > 0  # no XMLSyntaxError although the document is cut
    with pytest.raises(etree.XMLSyntaxError):
        for _ in etree.iterparse(io.BytesIO(truncated), events=("end",), resolve_entities=False):
            pass
