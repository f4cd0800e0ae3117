"""Provider callback routes of the mobilemoney app (mounted under /callbacks/ by config/urls.py)."""

urlpatterns: list = []
