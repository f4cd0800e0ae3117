"""Provider callback routes of the banking app (mounted under /callbacks/ by config/urls.py)."""

from django.urls import path

from banking.callbacks import partner_bank_callback

urlpatterns = [
    path("partner-bank", partner_bank_callback, name="banking-callback-partner-bank"),
]
