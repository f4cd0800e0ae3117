"""``/callbacks/<provider code>`` of every mobile-money provider added as data (wave_ci…), mounted
by config/urls.py after every fixed callback route so that it never shadows one. Both spellings
are served, as in mobilemoney/callback_urls.py."""

from django.urls import re_path

from mobilemoney import callbacks

urlpatterns = [
    re_path(r"^(?P<provider>[a-z][a-z0-9_]{1,19})/?$", callbacks.provider_callback, name="mm-callback-provider"),
]
