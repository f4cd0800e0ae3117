"""Public ids are prefixed, opaque and sort by creation time."""

import time

import pytest

from core.ids import PREFIXES, is_valid, new_id, timestamp_ms


def test_prefixed_and_valid() -> None:
    for prefix in ("txn", "bat", "cos", "qte", "trb", "ntf", "evt"):
        assert prefix in PREFIXES
        public_id = new_id(prefix)
        assert public_id.startswith(prefix + "_") and len(public_id) == len(prefix) + 27
        assert is_valid(public_id, prefix)
        assert not is_valid(public_id, "zzz")


def test_unknown_prefix_refused() -> None:
    with pytest.raises(ValueError):
        new_id("foo")


def test_ids_minted_in_sequence_sort_in_sequence() -> None:
    ids = [new_id("txn") for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 2000


def test_embedded_timestamp() -> None:
    now = int(time.time() * 1000)
    assert abs(timestamp_ms(new_id("txn")) - now) < 5000
