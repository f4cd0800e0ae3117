"""Options of the fault tests (a pytest plugin, registered from tests/conftest.py).

``--outage-seconds``: how long a peer stays down in the outage tests. A few seconds in
``make test`` (the idea "down for a while" is what is tested); ``make test-outages`` runs them
with a minute, as issue 17 describes.
"""

from __future__ import annotations

import pytest

DEFAULT_OUTAGE_SECONDS = 3.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--outage-seconds",
        type=float,
        default=DEFAULT_OUTAGE_SECONDS,
        help="how long a peer stays down in tests/faults (default: %(default)s)",
    )


@pytest.fixture
def outage_seconds(request: pytest.FixtureRequest) -> float:
    return float(request.config.getoption("--outage-seconds"))
