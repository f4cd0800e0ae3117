"""Fixtures of the push tests: the sandbox FCM over real HTTP (live_server), a connector built
through the registry exactly as the services build it."""

from __future__ import annotations

import pytest

from notifications.providers.base import PushProvider
from partners.registry import ConnectorSettings, get_connector_class
from tests.notifications.fcm_support import sandbox_fcm_settings


@pytest.fixture
def fcm_settings(live_server, transactional_db) -> ConnectorSettings:  # type: ignore[no-untyped-def]
    return sandbox_fcm_settings(live_server.url + "/sandbox/")


@pytest.fixture
def fcm(fcm_settings: ConnectorSettings) -> PushProvider:
    provider: PushProvider = get_connector_class("fcm")(fcm_settings)
    return provider
