"""Partner API routes of the payments app (mounted under /api/v1/ by config/urls.py)."""

urlpatterns: list = []
