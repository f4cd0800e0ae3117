"""Provider callback routes of the banking app (mounted under /callbacks/ by config/urls.py).

The trailing slash is optional: the bank is given ``…/callbacks/partner-bank`` and HTTP clients
(ours included, core/http.py) may join it as a base URL with a slash."""

from django.urls import re_path

from banking.callbacks import partner_bank_callback

urlpatterns = [
    re_path(r"^partner-bank/?$", partner_bank_callback, name="banking-callback-partner-bank"),
]
