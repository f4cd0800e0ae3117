"""Provider callback routes of the mobilemoney app (mounted under /callbacks/ by config/urls.py).

Both spellings are served: a provider posting to the registered URL with a trailing slash must
not meet a redirect (a POST is not re-sent) or a 404 (Orange Money stops retrying on 4xx).
"""

from django.urls import re_path

from mobilemoney import callbacks

urlpatterns = [
    re_path(r"^wave/?$", callbacks.wave_callback, name="mm-callback-wave"),
    re_path(r"^orange-money/?$", callbacks.orange_money_callback, name="mm-callback-orange-money"),
]
