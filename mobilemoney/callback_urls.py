"""Provider callback routes of the mobilemoney app (mounted under /callbacks/ by config/urls.py)."""

from django.urls import path

from mobilemoney import callbacks

urlpatterns = [
    path("wave", callbacks.wave_callback, name="mm-callback-wave"),
    path("orange-money", callbacks.orange_money_callback, name="mm-callback-orange-money"),
]
