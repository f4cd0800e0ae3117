"""Partner API routes of the events app (mounted under /api/v1/ by config/urls.py)."""

urlpatterns: list = []
