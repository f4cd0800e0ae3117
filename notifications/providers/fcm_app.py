"""One firebase-admin ``App`` per provider connection, with its messaging service prepared.

firebase-admin keeps apps in a process-wide registry by name and creates the messaging service
of an app lazily, once (docs/providers/fcm.md §5). We name each app after the connection and a
fingerprint of its settings, so a changed connection (rotated key, new URL, new timeouts) gets
a fresh app and the stale one is deleted.

Two modes:
- live: ``credentials.Certificate(settings.FIREBASE_CREDENTIALS_FILE)`` (a service account) and
  the SDK's own FCM URL; refused unless ``FIREBASE_ENABLED``.
- test: the sandbox FCM at the connection's ``base_url`` with a fake credential whose token is
  the sandbox access token from the connection's credentials (docs/providers/fcm.md §4).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import firebase_admin
import google.auth.credentials
from django.conf import settings
from firebase_admin import credentials, messaging
from urllib3.util.retry import Retry

from core.errors import ErrorCode, ServiceUnavailable
from partners.registry import ConnectorSettings

LIVE_FCM_ORIGIN = "https://fcm.googleapis.com"
APP_NAME_PREFIX = "addon-fcm-"
DEFAULT_PARALLEL_REQUESTS = 100

_apps_lock = threading.Lock()
_app_name_by_connection: dict[str, str] = {}  # connection id -> name of its current app


class FirebaseNotConfigured(ServiceUnavailable):
    """The connection cannot be used as configured (live without Firebase, missing project)."""

    code = ErrorCode.PROVIDER_NOT_CONFIGURED
    title = "Push provider not configured"


class SandboxAccessToken(google.auth.credentials.Credentials):
    """A Google credential whose 'refresh' just sets the sandbox token (no Google call)."""

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self._access_token = access_token

    def refresh(self, request: Any) -> None:
        self.token = self._access_token
        self.expiry = None


class SandboxCredential(credentials.Base):
    """firebase-admin credential for the sandbox FCM (the SDK asks it for a Google credential)."""

    def __init__(self, access_token: str) -> None:
        self._credential = SandboxAccessToken(access_token)

    def get_credential(self) -> google.auth.credentials.Credentials:
        return self._credential


def parallel_requests(connector_settings: ConnectorSettings) -> int:
    """How many HTTP requests one send runs at once (the SDK opens one thread per message)."""
    return max(1, int(connector_settings.limits.get("max_parallel_requests", DEFAULT_PARALLEL_REQUESTS)))


def messaging_app(connector_settings: ConnectorSettings) -> firebase_admin.App:
    """The connection's app (created on first use), its messaging service ready to send."""
    project_id = _project_id(connector_settings)
    name = APP_NAME_PREFIX + connector_settings.connection_id + "-" + _fingerprint(connector_settings, project_id)
    with _apps_lock:
        try:
            return firebase_admin.get_app(name)
        except ValueError:
            pass  # not created yet (get_app raises ValueError for an unknown name)
        _delete_stale_app(connector_settings.connection_id)
        # httpTimeout is one number (the SDK hands it to both requests and httpx, which disagree on
        # tuples): the read timeout, which bounds how long a worker waits for FCM's answer.
        options = {"projectId": project_id, "httpTimeout": connector_settings.timeouts.read}
        app = firebase_admin.initialize_app(_credential(connector_settings), options=options, name=name)
        _prepare_service(app, connector_settings, project_id)
        _app_name_by_connection[connector_settings.connection_id] = name
        return app


def _credential(connector_settings: ConnectorSettings) -> credentials.Base:
    if connector_settings.mode == "test":
        token = connector_settings.credentials.get("access_token")
        if not token:
            raise FirebaseNotConfigured("The test FCM connection has no sandbox access_token.")
        return SandboxCredential(str(token))
    if not settings.FIREBASE_ENABLED:
        raise FirebaseNotConfigured("Live push is disabled (FIREBASE_ENABLED=false).")
    return credentials.Certificate(settings.FIREBASE_CREDENTIALS_FILE)


def _project_id(connector_settings: ConnectorSettings) -> str:
    project_id = connector_settings.credentials.get("project_id")
    if not project_id and connector_settings.mode != "test" and settings.FIREBASE_CREDENTIALS_FILE:
        with open(settings.FIREBASE_CREDENTIALS_FILE, encoding="utf-8") as handle:
            project_id = json.load(handle).get("project_id")
    if not project_id:
        raise FirebaseNotConfigured("The FCM connection has no project_id.")
    return str(project_id)


def _fingerprint(connector_settings: ConnectorSettings, project_id: str) -> str:
    material = json.dumps(
        [
            connector_settings.mode,
            connector_settings.base_url,
            project_id,
            str(connector_settings.credentials.get("access_token", "")),
            settings.FIREBASE_CREDENTIALS_FILE,
            connector_settings.timeouts.as_tuple(),
            parallel_requests(connector_settings),
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _delete_stale_app(connection_id: str) -> None:
    stale = _app_name_by_connection.pop(connection_id, None)
    if stale is None:
        return
    with contextlib.suppress(ValueError):  # already deleted elsewhere
        firebase_admin.delete_app(firebase_admin.get_app(stale))


def _prepare_service(app: firebase_admin.App, connector_settings: ConnectorSettings, project_id: str) -> None:
    """Create the app's messaging service now and adjust it through three narrow seams.

    1. URL (test mode only): the SDK has no option or environment variable for the FCM URL; it
       is computed once in ``_MessagingService.__init__`` into ``_fcm_url`` (docs/providers/fcm.md §5
       item 1). We set that attribute right after creating the service, for this app only;
       patching the class attribute would redirect every app in the process.
    2. Retries: the SDK retries 500/503 up to 4 times with backoff and honours Retry-After on
       503 (docs/providers/fcm.md §5 item 2: seconds per target, slow tests). We mount our own
       adapter for the FCM origin: one retry of a connection that was never established (the
       request was not sent), nothing else. A 5xx, a 429 or a read timeout comes back to us as a
       retryable ``TargetResult`` and the caller's task retries with its own bounded backoff,
       so a push is never silently sent twice by a read retry and a send never blocks a worker.
    3. No redirects (docs/conventions.md §16) and no proxy settings from the environment.
    """
    service = messaging._get_messaging_service(app)
    if connector_settings.mode == "test":
        origin = _origin(connector_settings.base_url)
        service._fcm_url = connector_settings.base_url.rstrip("/") + f"/v1/projects/{project_id}/messages:send"
    else:
        origin = LIVE_FCM_ORIGIN
    pool = parallel_requests(connector_settings)
    retry = Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0, raise_on_status=False)
    session = service._client.session
    # The SDK's own adapter class (requests' HTTPAdapter), taken from its session: only core/http.py
    # imports requests (docs/conventions.md §16); here we configure the SDK's transport, we do not call it.
    adapter_class = type(session.get_adapter(origin + "/"))
    session.mount(origin, adapter_class(pool_connections=1, pool_maxsize=pool, max_retries=retry))
    session.max_redirects = 0
    session.trust_env = False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FirebaseNotConfigured(f"The FCM connection base_url is not an http(s) URL: {url!r}.")
    return f"{parts.scheme}://{parts.netloc}"
