"""Partner API routes of the banking app (mounted under /api/v1/ by config/urls.py)."""

urlpatterns: list = []
