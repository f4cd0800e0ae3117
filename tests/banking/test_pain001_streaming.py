"""A 10,000-transaction pain.001 parses (screened, XSD-validated, checked, typed) in bounded
memory. The peak of Python allocations is measured with tracemalloc while reading from a file
(so the input itself is not counted) and printed with ``-s``."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from banking.iso20022 import parse_pain001_xml
from core.money import Money
from tests.banking.builders import pain001_v03

TRANSACTIONS = 10_000
PEAK_LIMIT_BYTES = 50 * 1024 * 1024


def test_ten_thousand_transactions_parse_streaming_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(pain001_v03(TRANSACTIONS))
    size = path.stat().st_size

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with path.open("rb") as stream:
            message = parse_pain001_xml(stream)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    print(f"\n10,000-tx pain.001: {size / 1e6:.1f} MB file, peak Python memory {peak / 1e6:.1f} MB, {elapsed:.2f} s")
    assert message.nb_of_txs == TRANSACTIONS
    assert len(message.payment_infos[0].transactions) == TRANSACTIONS
    assert message.total == Money(TRANSACTIONS * 1000, "XOF")
    assert message.payment_infos[0].transactions[-1].end_to_end_id == "E2E-00010000"
    assert peak < PEAK_LIMIT_BYTES
