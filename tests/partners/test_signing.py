"""core.signing, and the worked example of docs/partner-api.md recomputed so the doc cannot drift."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clients.python.addon_partner_client import sign as client_sign
from core.signing import (
    SignatureHeaderError,
    format_signature_header,
    parse_signature_header,
    sign_request,
    signature_header,
    timestamp_is_fresh,
    verify,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "partner-api.md"
HEX = "a" * 64


def documented_example() -> dict[str, str]:
    text = DOC.read_text()
    block = text.split("### Worked example", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    values = dict(re.findall(r"^(\w+)\s+= (.*)$", block, flags=re.MULTILINE))
    assert set(values) == {"secret", "t", "method", "path", "body", "v1"}
    return values


def test_documented_example_is_what_the_gateway_computes() -> None:
    ex = documented_example()
    computed = sign_request(ex["secret"], int(ex["t"]), ex["method"], ex["path"], ex["body"].encode())
    assert computed == ex["v1"]
    assert client_sign(ex["secret"], int(ex["t"]), ex["method"], ex["path"], ex["body"].encode()) == ex["v1"]
    text = DOC.read_text()
    assert f"X-Signature: t={ex['t']},v1={ex['v1']}" in text
    assert text.count(ex["v1"]) == 4  # table, header, Python output, openssl output


def test_documented_openssl_recipe_gives_the_same_hex() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed on this machine")
    ex = documented_example()
    script = 'printf "%s\\n%s\\n%s\\n%s" "$T" "$M" "$P" "$B" | openssl dgst -sha256 -hmac "$S"'
    env = {
        "T": ex["t"],
        "M": ex["method"],
        "P": ex["path"],
        "B": ex["body"],
        "S": ex["secret"],
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("= " + ex["v1"])


def test_the_signature_covers_every_part() -> None:
    base = sign_request("s", 100, "POST", "/a?x=1", b"{}")
    assert base == sign_request("s", 100, "post", "/a?x=1", b"{}")  # the method is upper-cased
    assert len({
        base,
        sign_request("s2", 100, "POST", "/a?x=1", b"{}"),
        sign_request("s", 101, "POST", "/a?x=1", b"{}"),
        sign_request("s", 100, "PUT", "/a?x=1", b"{}"),
        sign_request("s", 100, "POST", "/a?x=2", b"{}"),
        sign_request("s", 100, "POST", "/a?x=1", b"{ }"),
    }) == 6  # fmt: skip


def test_verify() -> None:
    v1 = sign_request("secret", 5, "POST", "/p", b"body")
    assert verify("secret", 5, "POST", "/p", b"body", v1)
    assert not verify("secret", 5, "POST", "/p", b"body!", v1)
    assert not verify("other", 5, "POST", "/p", b"body", v1)
    assert not verify("secret", 5, "POST", "/p", b"body", v1.upper())


def test_format_and_parse_round_trip() -> None:
    assert format_signature_header(1767225600, HEX) == f"t=1767225600,v1={HEX}"
    assert parse_signature_header(f"t=1767225600,v1={HEX}") == (1767225600, [HEX])
    assert parse_signature_header(f"t=7,v1={HEX},v1={'b' * 64}") == (7, [HEX, "b" * 64])
    header = signature_header("s", "POST", "/p", b"", t=9)
    assert parse_signature_header(header) == (9, [sign_request("s", 9, "POST", "/p", b"")])


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        f"v1={HEX}",
        "t=1",
        f"t=1,t=2,v1={HEX}",
        f"t=-1,v1={HEX}",
        f"t=1.5,v1={HEX}",
        f"t=1,v1={HEX[:-1]}",
        f"t=1,v1={HEX.upper()}",
        f"t=1,v1={HEX},v0={HEX}",
        f"t=1, v1={HEX}",
        f"t=1,,v1={HEX}",
        f"t=1,v1={HEX}" + f",v1={HEX}" * 5,
        "t=1;v1=" + HEX,
    ],
)
def test_parse_is_strict(value: str | None) -> None:
    with pytest.raises(SignatureHeaderError):
        parse_signature_header(value)


def test_timestamp_window_is_300_seconds_both_ways() -> None:
    now = 1_767_225_600
    assert timestamp_is_fresh(now - 300, now=now) and timestamp_is_fresh(now + 300, now=now)
    assert not timestamp_is_fresh(now - 301, now=now) and not timestamp_is_fresh(now + 301, now=now)
