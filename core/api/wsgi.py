"""A guard in front of Django's WSGI handler (config/wsgi.py).

Django builds its request before any middleware runs, and a ``Content-Type`` naming a charset that
is a codec but not a text encoding (``bz2_codec``, ``base64_codec``…) makes it decode the query
string with that codec: a ``LookupError`` outside every handler, a bare 500 from the server, on
any URL with a query string. Such a request is answered here, 415 problem+json, before Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.http import parse_header_parameters

from core.api.errors import PROBLEM_CONTENT_TYPE, problem_body
from core.errors import ErrorCode

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_text_encoding(charset: str) -> bool:
    try:
        "".encode(charset)  # unlike codecs.lookup(), str.encode() refuses bytes-to-bytes codecs
    except (LookupError, UnicodeError):
        return False
    return True


def charset_guard(application: WsgiApp) -> WsgiApp:
    """``application`` behind a 415 for a request whose declared charset is not a text encoding."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        charset = params.get("charset")
        if charset and not is_text_encoding(charset):
            body = problem_body(
                status=415,
                code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                title="Unsupported media type",
                detail=f"The charset {charset[:40]!r} of the Content-Type is not a text encoding.",
            )
            payload = json.dumps(body).encode()
            headers = [("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(payload)))]
            start_response("415 Unsupported Media Type", headers)
            return [payload]
        return application(environ, start_response)

    return guarded
