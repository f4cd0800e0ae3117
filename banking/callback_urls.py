"""Provider callback routes of the banking app (mounted under /callbacks/ by config/urls.py)."""

urlpatterns: list = []
