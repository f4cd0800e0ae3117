"""The XSDs in banking/iso20022/xsd/ are the official files, unmodified (see their SOURCES.md)."""

from __future__ import annotations

import hashlib

import pytest

from banking.iso20022.schemas import MESSAGE_NAMES, XSD_DIR, namespace_of, schema_for

OFFICIAL_SHA256 = {
    "pain.001.001.03": "6bb5c6f24250ab807f31f6164142bafd6d43bad8d162a926e258ff4c11e128af",
    "pain.001.001.09": "de038b373e47b0077b1832ddd81f4b2f1eb25d35721f62da1e38b7f5a09fda24",
    "pain.002.001.03": "dfb211e63f09825ea89f0ceee870db9e82ab2840fbe8b8148d9c4c2a9a99fd87",
    "pain.002.001.10": "2f9f8d0e9891fa9f31ccf0576397afe501614384d688ae6e43ba694b3d24b0cf",
    "pacs.008.001.08": "cf048155f70cacd03f1f1dfadf66cba8752be93c249c267351782fd6adb023f7",
    "pacs.002.001.10": "d14da6304db5178b1afc7d8ed6cc6073e6e1a143fc79d9ba66d3246d4a654e90",
    "pacs.002.001.03": "b24f515eeb2f75d722c96c809d92317364c92dc23826add89295edc439fb0340",
}


@pytest.mark.parametrize("message_name", sorted(OFFICIAL_SHA256))
def test_schema_file_is_byte_identical_to_the_official_one(message_name: str) -> None:
    content = (XSD_DIR / f"{message_name}.xsd").read_bytes()
    assert hashlib.sha256(content).hexdigest() == OFFICIAL_SHA256[message_name]
    assert f'targetNamespace="{namespace_of(message_name)}"'.encode() in content


def test_every_schema_compiles_once_and_is_cached() -> None:
    assert set(OFFICIAL_SHA256) == set(MESSAGE_NAMES)
    for message_name in MESSAGE_NAMES:
        assert schema_for(message_name) is schema_for(message_name)
