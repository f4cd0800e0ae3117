"""The state machine table itself: exactly the docs/architecture.md list plus pending → failed."""

from __future__ import annotations

import pytest

from core.errors import ErrorCode, IllegalTransition
from ledger import states
from ledger.states import Status

# Written out independently of ledger.states so that a change of the table fails here.
EXPECTED = {
    ("pending", "processing"),
    ("pending", "cancelled"),
    ("pending", "expired"),
    ("pending", "failed"),
    ("processing", "succeeded"),
    ("processing", "failed"),
    ("processing", "unknown"),
    ("processing", "expired"),
    ("unknown", "succeeded"),
    ("unknown", "failed"),
    ("succeeded", "reversed"),
}


def test_the_table_is_exactly_the_design() -> None:
    allowed = {(a.value, b.value) for a, b in states.all_pairs() if states.is_allowed(a, b)}
    assert allowed == EXPECTED
    assert len(states.all_pairs()) == 64


def test_final_states_have_no_way_out() -> None:
    final = states.FINAL
    assert final == {Status.FAILED, Status.REVERSED, Status.CANCELLED, Status.EXPIRED}
    assert states.TRANSITIONS[Status.SUCCEEDED] == {Status.REVERSED}


@pytest.mark.parametrize(("source", "target"), [("pending", "succeeded"), ("unknown", "expired")])
def test_deliberately_absent_moves(source: str, target: str) -> None:
    assert not states.is_allowed(source, target)


def test_sources_of_each_target() -> None:
    assert states.sources_of("succeeded") == {Status.PROCESSING, Status.UNKNOWN}
    assert states.sources_of("failed") == {Status.PENDING, Status.PROCESSING, Status.UNKNOWN}
    assert states.sources_of("pending") == frozenset()


def test_check_raises_illegal_transition_with_a_stable_code() -> None:
    with pytest.raises(IllegalTransition) as caught:
        states.check("failed", "succeeded")
    assert caught.value.code == ErrorCode.ILLEGAL_TRANSITION
    assert caught.value.status == 409
    assert caught.value.extra == {"from_status": "failed", "to_status": "succeeded"}


def test_unknown_status_names_are_never_allowed() -> None:
    assert not states.is_allowed("pending", "teleported")
    assert not states.is_allowed("limbo", "failed")
