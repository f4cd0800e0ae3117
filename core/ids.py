"""Opaque, prefixed, time-sortable public ids (``txn_01JD3W…``).

The body is a ULID: 48 bits of milliseconds since the epoch then 80 random bits, in Crockford
base32 (26 characters). Ids sort by creation time as strings; within one millisecond the
random part is monotonic per process, so ids minted in sequence also sort in sequence.
"""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_lock = threading.Lock()
_last = (0, 0)

PREFIXES = frozenset(
    {"txn", "evt", "bat", "cos", "qte", "trb", "trf", "ntf", "ptn", "cbk", "whd", "itm", "acc", "pcn", "pay", "cin"}
    | {"rpt"}  # report files (reporting/)
)


# every pair of characters, indexed by the 10 bits they encode: a bulk intake mints two ids per
# item, and two characters a step halve the work of one a step
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]


def _encode(value: int, length: int) -> str:
    """``value``'s lowest ``5 * length`` bits in ``length`` characters (``length`` even)."""
    out = []
    for _ in range(length // 2):
        out.append(_PAIRS[value & 1023])
        value >>= 10
    return "".join(reversed(out))


def ulid(now_ms: int | None = None) -> str:
    global _last
    with _lock:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, (last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (ms, rand)
    return _encode(ms, 10) + _encode(rand, 16)


def new_id(prefix: str) -> str:
    """A new public id with ``prefix`` (one of ``PREFIXES``)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{ulid()}"


def is_valid(public_id: str, prefix: str) -> bool:
    head, _, body = public_id.partition("_")
    return head == prefix and bool(_BODY_RE.match(body))


def timestamp_ms(public_id: str) -> int:
    body = public_id.partition("_")[2]
    value = 0
    for char in body[:10]:
        value = value * 32 + _ALPHABET.index(char)
    return value
