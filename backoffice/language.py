"""The console speaks the staff's language; the partner API stays English.

Django's ``LocaleMiddleware`` would translate every page, the partner API's problem+json
messages included (partners and their tests read them in English). This middleware activates a
language only under the admin's prefix: the one chosen with the header's switch (Django's
``set_language`` view stores it in the language cookie), French by default for the bank's staff,
and puts the default back after the answer, so that the next request served by the same thread
(an API call) is in English again.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

ADMIN_DEFAULT_LANGUAGE = "fr"


class AdminLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # the prefix from the setting, not reverse(): a URLconf without the admin (a partner-only
        # test URLconf, say) must not turn every request into a NoReverseMatch
        if not request.path.startswith("/" + settings.ADMIN_URL):
            return self.get_response(request)
        language = admin_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


def admin_language(request: HttpRequest) -> str:
    """The language of the cookie when the console speaks it, else French."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    spoken = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in spoken else ADMIN_DEFAULT_LANGUAGE
